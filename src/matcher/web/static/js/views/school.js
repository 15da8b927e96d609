// One school of a pairing run: each suggested pair as a card (the two teachers, what each can support the other
// in, both scores as a strip, the suggested focus, the reason in plain words), the teachers left without a pair and
// why, and a principal's re-match: refuse a pair, keep a pair, remove a teacher, then the next revision with what
// changed highlighted. A re-match names the revision the page shows; if someone saved another one meanwhile the
// API answers 409 and the page says so and offers a reload (it never re-sends on its own).

import {download} from '../api.js';
import {legend, scoreStrip} from '../chart.js';
import {clear, h, newId, num, route, when} from '../dom.js';
import {errorBox} from '../ui.js';

const rubrics = new Map();

async function rubricFor(api, name) {
  if (!rubrics.has(name)) rubrics.set(name, await api.get(`/v1/rubrics/${encodeURIComponent(name)}`));
  return rubrics.get(name);
}

const STABILITY = [
  ['balanced', 'Keep the other pairs unless changing them gives the school more support in total'],
  ['keep_untouched', 'Keep every other pair as it is; pair only the teachers this frees'],
  ['full', 'Suggest the whole school again'],
];

const pairKey = (a, b) => [a, b].sort().join('\u0000');

function teacherFacts(t) {
  if (!t) return 'of another school';
  const grades = /[-;]/.test(t.grades) ? `grades ${t.grades}` : `grade ${t.grades}`;
  const years = t.years_experience === null ? 'experience not given'
    : `${num(t.years_experience)} year${t.years_experience === 1 ? '' : 's'} of experience`;
  return `${t.subject || 'subject not given'}, ${grades}, ${years}${t.opt_out ? ', opted out' : ''}`;
}

function teacherLine(t, id) {
  return `${id}: ${teacherFacts(t)}`;
}

function helpTable(page, helper, learner, indicators) {
  if (!indicators.length) return null;
  const {labels, teachers} = page;
  const score = (id, ind) => {
    const t = teachers.get(id);
    const v = t ? t.scores[ind] : null;
    return v === null || v === undefined ? 'not observed' : num(v);
  };
  return h('div', {class: 'help'},
    h('p', {class: 'help-title'}, `${helper} can support ${learner} in:`),
    h('table', {class: 'help-table'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'indicator'),
        h('th', {scope: 'col', class: 'num'}, helper, h('span', {class: 'sub'}, ' reinforcement')),
        h('th', {scope: 'col', class: 'num'}, learner, h('span', {class: 'sub'}, ' refinement')))),
      h('tbody', {}, indicators.map((ind) => h('tr', {},
        h('th', {scope: 'row'}, labels.get(ind) || ind),
        h('td', {class: 'num reinforce'}, score(helper, ind)),
        h('td', {class: 'num refine'}, score(learner, ind)))))));
}

/** Buttons that toggle a requested change; aria-pressed shows which are chosen. */
function toggle(page, kind, item, label, extra = {}) {
  const key = kind === 'remove' ? `remove:${item}` : `${kind}:${pairKey(...item)}`;
  const b = h('button', {type: 'button', class: 'toggle', 'aria-pressed': String(page.pending.has(key)),
    dataset: {change: key}, ...extra}, label);
  b.addEventListener('click', () => {
    if (page.pending.has(key)) {
      page.pending.delete(key);
    } else {
      // Refusing and keeping one pair exclude each other.
      const other = kind === 'forbid' ? `keep:${pairKey(...item)}` : kind === 'keep' ? `forbid:${pairKey(...item)}`
        : null;
      if (other) page.pending.delete(other);
      page.pending.set(key, {kind, item, label: describeChange(kind, item)});
    }
    page.refresh();
    page.ctx.announce(page.pending.has(key) ? `Added: ${describeChange(kind, item)}.`
      : `Removed from your changes: ${describeChange(kind, item)}.`);
  });
  return b;
}

function describeChange(kind, item) {
  if (kind === 'forbid') return `do not pair ${item[0]} and ${item[1]}`;
  if (kind === 'keep') return `keep ${item[0]} and ${item[1]} together`;
  return `remove ${item} (left the school)`;
}

function pairCard(page, p) {
  const {diffNew, rubric, weak, strong, teachers} = page;
  const isNew = diffNew.has(pairKey(p.teacher_a, p.teacher_b));
  const titleId = newId('pair');
  const scores = (id) => ({id, scores: teachers.has(id) ? teachers.get(id).scores : {}});
  return h('article', {class: ['card', isNew && 'changed'], 'aria-labelledby': titleId},
    h('header', {class: 'card-head'},
      h('h3', {id: titleId}, `${p.teacher_a} & ${p.teacher_b}`),
      isNew ? h('span', {class: 'badge new'}, 'New pair') : null,
      p.origin === 'must_pair' ? h('span', {class: 'badge'}, 'kept on request') : null,
      h('span', {class: 'value', title: 'indicators where one can support the other'}, `value ${num(p.value)}`)),
    h('ul', {class: 'who-line'}, h('li', {}, teacherLine(teachers.get(p.teacher_a), p.teacher_a)),
      h('li', {}, teacherLine(teachers.get(p.teacher_b), p.teacher_b))),
    helpTable(page, p.teacher_a, p.teacher_b, p.a_helps_b),
    helpTable(page, p.teacher_b, p.teacher_a, p.b_helps_a),
    scoreStrip({rubric, weak, strong, a: scores(p.teacher_a), b: scores(p.teacher_b), aHelpsB: p.a_helps_b,
      bHelpsA: p.b_helps_a, focus: p.focus_indicator}),
    p.focus_indicator ? h('p', {class: 'focus'}, 'Suggested focus: ',
      h('strong', {}, page.labels.get(p.focus_indicator) || p.focus_indicator)) : null,
    h('p', {class: 'why'}, p.explanation),
    p.school_b ? h('p', {class: 'note'}, 'A pair across schools: only the state office can change it.')
      : h('div', {class: 'actions', role: 'group', 'aria-label': `Changes for ${p.teacher_a} and ${p.teacher_b}`},
        toggle(page, 'forbid', [p.teacher_a, p.teacher_b], 'Do not pair these two'),
        toggle(page, 'keep', [p.teacher_a, p.teacher_b], 'Keep this pair'),
        toggle(page, 'remove', p.teacher_a, `Remove ${p.teacher_a}`,
          {'aria-label': `Remove ${p.teacher_a} (left the school)`}),
        toggle(page, 'remove', p.teacher_b, `Remove ${p.teacher_b}`,
          {'aria-label': `Remove ${p.teacher_b} (left the school)`})));
}

function unmatchedList(page, rows) {
  if (!rows.length) return h('p', {}, 'Every teacher has a suggested pair.');
  return h('ul', {class: 'unmatched'}, rows.map((u) => {
    const wasPaired = page.before && page.before.paired.has(u.teacher_id);
    return h('li', {class: wasPaired ? 'changed' : null},
      h('div', {}, h('strong', {}, u.teacher_id), wasPaired ? h('span', {class: 'badge new'}, 'Now without a pair')
        : null, h('span', {class: 'muted'}, ` ${teacherFacts(page.teachers.get(u.teacher_id))}`)),
      h('p', {class: 'why'}, u.reason),
      toggle(page, 'remove', u.teacher_id, 'Remove', {'aria-label': `Remove ${u.teacher_id} (left the school)`}));
  }));
}

function changesSection(view) {
  const d = view.diff;
  if (!d || view.revision === 0) return null;
  const headingId = newId('changes');
  const pairLine = (x) => h('li', {}, h('strong', {}, `${x.teacher_a} & ${x.teacher_b}`), `: ${x.reason}`);
  return h('section', {class: 'changes', 'aria-labelledby': headingId},
    h('h2', {id: headingId, tabindex: '-1'}, `What changed in revision ${view.revision}`),
    h('p', {}, `${d.kept.length} pair${d.kept.length === 1 ? '' : 's'} kept, ${d.broken.length} ended, `
      + `${d.new.length} new (highlighted below).`),
    d.broken.length ? h('div', {}, h('h3', {}, 'Pairs that ended'), h('ul', {class: 'broken'}, d.broken.map(pairLine)))
      : null,
    d.new.length ? h('div', {}, h('h3', {}, 'New pairs'), h('ul', {class: 'added'}, d.new.map(pairLine))) : null);
}

function panel(page) {
  const list = h('ul', {class: 'pending'});
  const alert = h('div', {class: 'panel-alert'});
  const note = h('textarea', {rows: 2, maxlength: 2000, id: newId('note')});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Ask for a new suggestion');
  const stabilityName = newId('stability');
  const radios = STABILITY.map(([value, text], i) => {
    const id = `${stabilityName}-${value}`;
    return h('div', {class: 'radio'}, h('input', {type: 'radio', name: stabilityName, id, value, checked: i === 0}),
      h('label', {for: id}, text));
  });
  const form = h('form', {class: 'panel', 'aria-labelledby': 'panel-title'},
    h('h2', {id: 'panel-title'}, 'Ask for a new suggestion'),
    h('p', {class: 'hint'}, `Choose changes on the cards (refuse a pair, keep a pair, remove a teacher who left), `
      + `then ask. The new suggestion becomes revision ${page.view.revision + 1}.`),
    h('h3', {class: 'small'}, 'Your changes'), list,
    h('fieldset', {}, h('legend', {}, 'The other pairs'), radios),
    h('div', {class: 'field'}, h('label', {for: note.id}, 'Note for the record (optional)'), note),
    h('div', {class: 'buttons'}, submit,
      h('button', {type: 'button', class: 'quiet', onclick: () => { page.pending.clear(); page.refresh(); }},
        'Clear')),
    alert);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!page.pending.size || page.stale) return;
    const items = [...page.pending.values()];
    const body = {
      revision: page.view.revision,
      forbid: items.filter((c) => c.kind === 'forbid').map((c) => c.item),
      keep: items.filter((c) => c.kind === 'keep').map((c) => c.item),
      remove: items.filter((c) => c.kind === 'remove').map((c) => c.item),
      stability: form.querySelector(`input[name="${stabilityName}"]:checked`).value,
      note: note.value.trim() || null,
    };
    submit.disabled = true;
    submit.textContent = 'Asking…';
    clear(alert);
    try {
      await page.ctx.api.post(`${page.base}/schools/${encodeURIComponent(page.schoolId)}/rematch`, body);
    } catch (err) {
      submit.textContent = 'Ask for a new suggestion';
      if (err.status === 409) {
        page.markStale(err.body.revision);
      } else {
        submit.disabled = false;
        clear(alert, errorBox(err, err.status === 422 ? 'This change cannot be made' : null));
        page.ctx.announce('The new suggestion could not be made.');
      }
      return;
    }
    await page.reload({after: true});
  });
  page.refreshPanel = () => {
    const items = [...page.pending.entries()];
    list.replaceChildren(...(items.length ? items.map(([key, c]) => h('li', {}, c.label, ' ',
      h('button', {type: 'button', class: 'link', 'aria-label': `Undo: ${c.label}`, onclick: () => {
        page.pending.delete(key);
        page.refresh();
        page.ctx.announce(`Removed from your changes: ${c.label}.`);
      }}, 'undo'))) : [h('li', {class: 'muted'}, 'None yet.')]));
    submit.disabled = !items.length || page.stale;
    form.classList.toggle('has-changes', items.length > 0);
  };
  page.panelAlert = alert;
  return form;
}

async function history(ctx, base, schoolId, box) {
  const data = await ctx.api.get(`${base}/schools/${encodeURIComponent(schoolId)}/revisions`);
  clear(box, h('ol', {class: 'history', start: 0}, data.revisions.map((r) => {
    const req = r.request || {};
    const asked = [];
    for (const [a, b] of req.forbid || []) asked.push(`do not pair ${a} and ${b}`);
    for (const [a, b] of req.keep || []) asked.push(`keep ${a} and ${b}`);
    for (const t of req.remove || []) asked.push(`remove ${t}`);
    for (const t of req.add || []) asked.push(`add ${t.teacher_id || 'a teacher'}`);
    return h('li', {}, h('strong', {}, `Revision ${r.revision}`), ` · ${when(r.created_at)} · key ${r.created_by}: `,
      r.revision === 0 ? 'the run\'s suggestion' : `asked to ${asked.join('; ') || 'suggest again'}`,
      req.note ? ` (“${req.note}”)` : '', ` → ${r.n_pairs} pairs, value ${num(r.value)}, ${r.n_unmatched} without a pair.`);
  })));
}

async function render(ctx, runId, schoolId, page = null) {
  const base = `/v1/pairings/${encodeURIComponent(runId)}`;
  const [run, view] = await Promise.all([ctx.api.get(base),
    ctx.api.get(`${base}/schools/${encodeURIComponent(schoolId)}`)]);
  const dataset = await ctx.api.get(`/v1/datasets/${encodeURIComponent(run.dataset_id)}`);
  const rubric = await rubricFor(ctx.api, dataset.rubric);
  let siblings = [];
  if (ctx.me.role === 'principal' && ctx.me.schools.length > 1) {
    siblings = (await ctx.api.get(`${base}/schools`)).schools.map((x) => x.school_id);
  }
  if (!ctx.alive()) return;

  const before = page && page.view ? {
    paired: new Set(page.view.pairs.flatMap((p) => [p.teacher_a, p.teacher_b])),
  } : null;
  page = {
    ctx, base, runId, schoolId, view, rubric, before, stale: false,
    pending: new Map(),
    weak: run.policy.weak_below ?? rubric.weak_below,
    strong: run.policy.strong_at_least ?? rubric.strong_at_least,
    teachers: new Map(view.teachers.map((t) => [t.teacher_id, t])),
    labels: new Map(rubric.indicators.map((i) => [i.name, i.label])),
    diffNew: new Set(view.revision > 0 && view.diff ? view.diff.new.map((x) => pairKey(x.teacher_a, x.teacher_b))
      : []),
  };
  page.reload = async ({after}) => {
    await render(ctx, runId, schoolId, page);
    if (!ctx.alive()) return;
    if (after) {
      const d = ctx.main.querySelector('.changes h2');
      const latest = ctx.main.querySelector('.meta');
      ctx.announce(`Saved. ${latest ? latest.textContent : ''}`);
      if (d) d.focus();
    } else {
      const latest = ctx.main.querySelector('.meta');
      ctx.main.querySelector('h1').focus();
      ctx.announce(`Reloaded. ${latest ? latest.textContent : ''}`);
    }
  };
  page.refresh = () => {
    for (const b of ctx.main.querySelectorAll('button[data-change]')) {
      b.setAttribute('aria-pressed', String(page.pending.has(b.dataset.change)));
    }
    page.refreshPanel();
  };
  const staleBox = h('div', {class: 'stale-box'});
  page.markStale = (current) => {
    page.stale = true;
    page.refreshPanel();
    const reload = h('button', {type: 'button', class: 'primary', onclick: () => page.reload({after: false})},
      'Reload the school');
    clear(staleBox, h('div', {class: 'error stale', role: 'alert'},
      h('p', {class: 'error-title'}, 'This school has changed since you opened it'),
      h('p', {}, `Someone saved revision ${current ?? 'newer'} meanwhile; this page shows revision ${view.revision}. `
        + 'Your changes were not applied and nothing was overwritten.'),
      h('p', {}, 'Reload to see the current suggestion, then ask again if you still need to.'), reload));
    clear(page.panelAlert, h('p', {class: 'error'}, 'Reload the school first (see the message above).'));
    staleBox.scrollIntoView({block: 'center'});
    reload.focus();
  };

  const nTeachers = view.teachers.length;
  const mode = view.mode === 'one_way'
    ? 'One-way pairs: the first teacher (the partner) supports the second.'
    : 'Mutual pairs: each teacher supports the other where one has a reinforcement area and the other a '
      + 'refinement area.';
  ctx.title(`${schoolId}: suggested pairs`);
  const reportButton = h('button', {type: 'button', onclick: () => download(ctx.api,
    `${base}/schools/${encodeURIComponent(schoolId)}/report.html`, `${schoolId}.html`)}, 'Download the report (HTML)');
  const historyBox = h('div', {}, 'Loading…');
  const details = h('details', {class: 'history-box'}, h('summary', {}, `History of this school (${view.revision + 1} `
    + `revision${view.revision === 0 ? '' : 's'})`), historyBox);
  details.addEventListener('toggle', () => {
    if (details.open) history(ctx, base, schoolId, historyBox).catch((err) => clear(historyBox, errorBox(err)));
  }, {once: true});

  clear(ctx.main,
    h('div', {class: 'page-head'},
      h('h1', {}, `Suggested pairs · ${schoolId}`),
      h('p', {class: 'meta'}, `Revision ${view.revision} · ${view.pairs.length} pair${view.pairs.length === 1 ? '' : 's'}`
        + ` · ${nTeachers} teachers · total value ${num(view.value)}`),
      h('p', {class: 'muted'}, `Run of ${when(run.created_at)} on “${dataset.name}”. ${mode} ${rubric.title}: a `
        + `refinement area is a score below ${num(page.weak)}, a reinforcement area ${num(page.strong)} or above. `
        + 'These are suggestions for you to review; taking part is voluntary.'),
      siblings.length > 1 ? h('nav', {class: 'siblings', 'aria-label': 'Your schools'}, siblings.map((sid) =>
        h('a', {href: route('pairings', runId, 'schools', sid), 'aria-current': sid === schoolId ? 'page' : null},
          sid))) : null,
      h('div', {class: 'buttons'}, reportButton)),
    staleBox,
    h('div', {class: 'school-grid'},
      h('div', {class: 'school-main'},
        changesSection(view),
        h('section', {'aria-labelledby': 'pairs-title'},
          h('h2', {id: 'pairs-title'}, `Suggested pairs (${view.pairs.length})`),
          legend(page.weak, page.strong),
          view.pairs.length ? h('div', {class: 'cards'}, view.pairs.map((p) => pairCard(page, p)))
            : h('p', {}, 'No pairs: no two teachers here can support each other on one indicator.')),
        h('section', {'aria-labelledby': 'unmatched-title'},
          h('h2', {id: 'unmatched-title'}, `Teachers without a suggested pair (${view.unmatched.length})`),
          unmatchedList(page, view.unmatched)),
        details),
      panel(page)));
  page.refreshPanel();
}

export const routes = [{
  pattern: /^\/pairings\/([^/]+)\/schools\/([^/]+)$/,
  roles: ['principal', 'state', 'researcher'],
  render: (ctx, runId, schoolId) => render(ctx, runId, schoolId),
}];
