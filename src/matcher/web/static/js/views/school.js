// One school of a pairing run: each suggested pair as a card (the two teachers, what each can support the other
// in, both scores as a strip, the suggested focus, the reason in plain words), the teachers left without a pair and
// why, and a principal's re-match: refuse a pair, keep a pair, remove a teacher, then the next revision with what
// changed highlighted. A re-match names the revision the page shows; if someone saved another one meanwhile the
// API answers 409 and the page says so and offers a reload (it never re-sends on its own).

import {download, openPage} from '../api.js';
import {legend, observed, scoreStrip, stripLabel} from '../chart.js';
import {clear, h, named, nameKey, newId, num, route, when} from '../dom.js';
import {actionButton, errorBox, staleAlert} from '../ui.js';

const rubrics = new Map();

async function rubricFor(api, name) {
  if (!rubrics.has(name)) rubrics.set(name, await api.get(`/v1/rubrics/${encodeURIComponent(name)}`));
  return rubrics.get(name);
}

// The first is the default (the API's too): a principal's change disturbs nothing else.
const STABILITY = [
  ['keep_untouched', 'Keep every other pair as it is; pair only the teachers this frees'],
  ['balanced', 'Keep the other pairs unless changing them gives the school more support in total'],
  ['full', 'Suggest the whole school again'],
];
// What the bar on a tablet says of the choice.
const STABILITY_SHORT = {keep_untouched: 'the other pairs stay as they are',
  balanced: 'the other pairs stay unless a change gives more support', full: 'the whole school is suggested again'};

const pairKey = (a, b) => [a, b].sort().join('\u0000');

let watching = null;  // the panel's IntersectionObserver (one page at a time)

/** Every [teacher_id, name] a school view carries: its teachers, both sides of each pair, the unmatched, a diff. */
function viewNames(view) {
  const out = view.teachers.map((t) => [t.teacher_id, t.teacher_name]);
  for (const p of view.pairs) out.push([p.teacher_a, p.teacher_a_name], [p.teacher_b, p.teacher_b_name]);
  for (const u of view.unmatched) out.push([u.teacher_id, u.teacher_name]);
  for (const x of view.diff ? [...view.diff.broken, ...view.diff.new] : []) {
    out.push([x.teacher_a, x.teacher_a_name], [x.teacher_b, x.teacher_b_name]);
  }
  return out;
}

/**
 * Who is who: teachers by name (the id alone where the file gave none), with the id always at hand (a title) and
 * shown whenever two teachers share a name, so namesakes can be told apart.
 */
function directory(entries) {
  const names = new Map();
  for (const [id, name] of entries) {
    const n = String(name || '').trim();
    if (id && n && !names.has(id)) names.set(id, n);
  }
  const bearers = new Map();
  for (const n of names.values()) bearers.set(nameKey(n), (bearers.get(nameKey(n)) || 0) + 1);
  const shared = (id) => names.has(id) && bearers.get(nameKey(names.get(id))) > 1;
  return {
    name: (id) => names.get(id) || '',
    shared,
    /** For sentences and labels: "Maria Garcia", "Pat Lee (T000007)" for a namesake, "T000009" if unnamed. */
    text: (id) => (!names.has(id) ? id : shared(id) ? `${names.get(id)} (${id})` : names.get(id)),
    /** An element: the name (the id on hover, and visibly for a namesake), or the id alone. */
    el: (id) => (names.has(id)
      ? h('span', {class: 'person', title: `ID ${id}`}, names.get(id),
        shared(id) ? h('span', {class: 'pid'}, ` (${id})`) : null)
      : h('span', {class: 'person'}, id)),
  };
}

function teacherFacts(t) {
  const grades = /[-;]/.test(t.grades) ? `grades ${t.grades}` : `grade ${t.grades}`;
  const years = t.years_experience === null ? 'experience not given'
    : `${num(t.years_experience)} year${t.years_experience === 1 ? '' : 's'} of experience`;
  return `${t.role ? `${t.role}, ` : ''}${t.subject || 'subject not given'}, ${grades}, ${years}`
    + `${t.opt_out ? ', opted out' : ''}`;
}

/** The school a pair's colleague from elsewhere teaches at (a pair across schools), by name. */
function otherSchool(page, p) {
  return p.school_id === page.schoolId ? (p.school_b_name || p.school_b) : (p.school_name || p.school_id);
}

function teacherLine(page, p, id) {
  const t = page.teachers.get(id);
  const {people} = page;
  return h('li', {}, h('span', {class: 'who-name'}, people.name(id) || id),
    people.name(id) ? h('span', {class: 'pid'}, ` (${id})`) : null,
    t ? `: ${teacherFacts(t)}` : `: teaches at ${otherSchool(page, p)}`);
}

/** A score as read: "3.33" and, where it rests on several observations, "(3 obs.)" (mean of 3 observations). */
function scoreCell(page, id, ind, cls) {
  const t = page.teachers.get(id);
  const v = t.scores[ind];
  if (v === null || v === undefined) return h('td', {class: `num ${cls}`}, 'not observed');
  const n = (t.observations || {})[ind] || 0;
  const many = observed(n, page.view.aggregate);
  return h('td', {class: `num ${cls}`}, num(v),
    many ? h('abbr', {class: 'obs', title: many}, ` (${n} obs.)`) : null);
}

function helpTable(page, helper, learner, indicators) {
  if (!indicators.length) return null;
  const {labels, teachers, people} = page;
  // A colleague at another school: named, but their scores are not ours to show (the API does not send them).
  const cols = [[helper, 'reinforcement', 'reinforce'], [learner, 'refinement', 'refine']]
    .filter(([id]) => teachers.has(id));
  return h('div', {class: 'help'},
    h('p', {class: 'help-title'}, `${people.text(helper)} can support ${people.text(learner)} in:`),
    h('table', {class: 'help-table'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'indicator'),
        cols.map(([id, sub]) => h('th', {scope: 'col', class: 'num'}, people.el(id),
          h('span', {class: 'sub'}, ` ${sub}`))))),
      h('tbody', {}, indicators.map((ind) => h('tr', {},
        h('th', {scope: 'row'}, labels.get(ind) || ind),
        cols.map(([id, , cls]) => scoreCell(page, id, ind, cls)))))));
}

/** Buttons that toggle a requested change; aria-pressed shows which are chosen. */
function toggle(page, kind, item, label, extra = {}) {
  const key = kind === 'remove' ? `remove:${item}` : `${kind}:${pairKey(...item)}`;
  const b = h('button', {type: 'button', class: 'toggle', 'aria-pressed': String(page.pending.has(key)),
    dataset: {change: key}, ...extra}, label);
  b.addEventListener('click', () => {
    const said = describeChange(page, kind, item);
    if (page.pending.has(key)) {
      page.pending.delete(key);
    } else {
      // Refusing and keeping one pair exclude each other.
      const other = kind === 'forbid' ? `keep:${pairKey(...item)}` : kind === 'keep' ? `forbid:${pairKey(...item)}`
        : null;
      if (other) page.pending.delete(other);
      page.pending.set(key, {kind, item, label: said});
    }
    page.refresh();
    // On a tablet the bar that leads to the panel may now cover this button: keep it in sight (scroll-padding).
    b.scrollIntoView({block: 'nearest'});
    page.ctx.announce(page.pending.has(key) ? `Added: ${said}.` : `Removed from your changes: ${said}.`);
  });
  return b;
}

function describeChange(page, kind, item) {
  const who = page.people.text;
  if (kind === 'forbid') return `do not pair ${who(item[0])} and ${who(item[1])}`;
  if (kind === 'keep') return `keep ${who(item[0])} and ${who(item[1])} together`;
  return `remove ${who(item)} (left the school)`;
}

/** The pair's one-page handout for the two teachers, fetched with the key and opened in a new tab. */
function handoutLink(page, p, both) {
  if (!p.handout) return null;
  const path = `${page.base}/schools/${encodeURIComponent(page.key)}/pairs/${encodeURIComponent(p.handout)}`
    + `/handout.html?revision=${page.view.revision}`;
  const alert = h('span', {class: 'handout-alert', role: 'status'});
  const open = h('button', {type: 'button', class: 'link', 'aria-label': `Open the handout for ${both} (new tab)`,
    onclick: () => {
      alert.textContent = '';
      openPage(page.ctx.api, path).catch((err) => { alert.textContent = ` Could not open it: ${err.message}`; });
    }}, 'Open handout');
  return h('p', {class: 'handout'}, open, h('span', {class: 'muted'}, ' · one page to print for the two teachers'),
    alert);
}

function pairCard(page, p) {
  const {diffNew, rubric, weak, strong, teachers, people} = page;
  const isNew = diffNew.has(pairKey(p.teacher_a, p.teacher_b));
  const titleId = newId('pair');
  const elsewhere = (id) => (teachers.has(id) ? null
    : h('span', {class: 'at'}, ` at ${otherSchool(page, p)}`));
  const ours = [p.teacher_a, p.teacher_b].filter((id) => teachers.has(id));
  const labels = ours.map((id) => stripLabel(people.name(id) || id));
  const sameLabel = labels.length === 2 && nameKey(labels[0]) === nameKey(labels[1]);  // namesakes: their ids
  const rows = ours.map((id, i) => ({label: sameLabel ? stripLabel(id) : labels[i], who: people.text(id),
    scores: teachers.get(id).scores, observations: teachers.get(id).observations, areas: areasOf(page, id)}));
  const away = [p.teacher_a, p.teacher_b].find((id) => !teachers.has(id));
  const both = `${people.text(p.teacher_a)} and ${people.text(p.teacher_b)}`;
  return h('article', {class: ['card', isNew && 'changed'], 'aria-labelledby': titleId},
    h('header', {class: 'card-head'},
      h('h3', {id: titleId}, people.el(p.teacher_a), elsewhere(p.teacher_a), ' & ', people.el(p.teacher_b),
        elsewhere(p.teacher_b)),
      isNew ? h('span', {class: 'badge new'}, 'New pair') : null,
      p.origin === 'must_pair' || p.origin === 'kept' ? h('span', {class: 'badge'}, 'kept on request') : null,
      h('span', {class: 'value'}, p.value_counts || `value ${num(p.value)}`)),
    h('ul', {class: 'who-line'}, teacherLine(page, p, p.teacher_a), teacherLine(page, p, p.teacher_b)),
    helpTable(page, p.teacher_a, p.teacher_b, p.a_helps_b),
    helpTable(page, p.teacher_b, p.teacher_a, p.b_helps_a),
    alsoStrong(page, p.teacher_b, p.b_helps_a), alsoStrong(page, p.teacher_a, p.a_helps_b),
    rows.length ? scoreStrip({rubric, weak, strong, rows, aHelpsB: p.a_helps_b, bHelpsA: p.b_helps_a,
      focus: p.focus_indicator, aggregate: page.view.aggregate,
      note: away ? `${people.text(away)} teaches at ${otherSchool(page, p)}; their scores are not shown.` : ''})
      : null,
    p.focus_indicator ? h('p', {class: 'focus'}, 'Suggested focus: ',
      h('strong', {}, page.labels.get(p.focus_indicator) || p.focus_indicator)) : null,
    h('p', {class: 'why'}, p.explanation),
    handoutLink(page, p, both),
    p.school_b ? h('p', {class: 'note'}, `A pair across schools (${people.text(away || p.teacher_b)} teaches at `
      + `${otherSchool(page, p)}): only the state office can change it; their scores are not shown here.`)
      : page.readOnly ? null : h('div', {class: 'actions', role: 'group', 'aria-label': `Changes for ${both}`},
        toggle(page, 'forbid', [p.teacher_a, p.teacher_b], 'Do not pair these two', {title: `Do not pair ${both}`}),
        toggle(page, 'keep', [p.teacher_a, p.teacher_b], 'Keep this pair', {title: `Keep ${both} together`}),
        toggle(page, 'remove', p.teacher_a, `Remove ${people.text(p.teacher_a)}`,
          {'aria-label': `Remove ${people.text(p.teacher_a)} (left the school)`}),
        toggle(page, 'remove', p.teacher_b, `Remove ${people.text(p.teacher_b)}`,
          {'aria-label': `Remove ${people.text(p.teacher_b)} (left the school)`})));
}

/** A teacher's {refine, reinforce} indicator sets under relative or designated areas (null under thresholds). */
function areasOf(page, id) {
  const t = page.teachers.get(id);
  if (!page.byArea || !t) return null;
  return {refine: new Set(t.refinement_areas || []), reinforce: new Set(t.reinforcement_areas || [])};
}

/**
 * Where a teacher supports their partner in nothing, their own reinforcement areas, so that the card does not read
 * as if they only had refinement areas (pairs are "reinforcement and refinement" for both).
 */
function alsoStrong(page, id, helps) {
  const t = page.teachers.get(id);
  if (helps.length || !t) return null;
  const own = new Set(t.reinforcement_areas || []);
  const strong = page.rubric.indicators.filter((i) => (page.byArea ? own.has(i.name)
    : t.scores[i.name] !== null && t.scores[i.name] !== undefined && t.scores[i.name] >= page.strong))
    .map((i) => i.label);
  if (!strong.length) return null;
  return h('p', {class: 'also'}, `${page.people.text(id)} brings reinforcement areas too: ${strong.join(', ')}.`);
}

function unmatchedList(page, rows) {
  if (!rows.length) return h('p', {}, 'Every teacher has a suggested pair.');
  const {people} = page;
  return h('ul', {class: 'unmatched'}, rows.map((u) => {
    const wasPaired = page.before && page.before.paired.has(u.teacher_id);
    const t = page.teachers.get(u.teacher_id);
    return h('li', {class: wasPaired ? 'changed' : null},
      h('div', {}, h('strong', {}, people.name(u.teacher_id) || u.teacher_id),
        people.name(u.teacher_id) ? h('span', {class: 'pid'}, ` (${u.teacher_id})`) : null,
        h('span', {class: 'muted'}, t ? `: ${teacherFacts(t)}` : ''), ' ',
        wasPaired ? h('span', {class: 'badge new'}, 'Now without a pair') : null),
      h('p', {class: 'why'}, u.reason),
      page.readOnly ? null : toggle(page, 'remove', u.teacher_id, 'Remove',
        {'aria-label': `Remove ${people.text(u.teacher_id)} (left the school)`}));
  }));
}

function changesSection(page) {
  const {view, people} = page;
  const d = view.diff;
  if (!d || view.revision === 0) return null;
  const headingId = newId('changes');
  const pairLine = (x) => h('li', {}, h('strong', {}, people.el(x.teacher_a), ' & ', people.el(x.teacher_b)),
    `: ${x.reason}`);
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
    h('h2', {id: 'panel-title', tabindex: '-1'}, 'Ask for a new suggestion'),
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
    askNow.disabled = true;
    submit.textContent = 'Asking…';
    askNow.textContent = 'Asking…';
    clear(alert);
    try {
      await page.ctx.api.post(`${page.base}/schools/${encodeURIComponent(page.key)}/rematch`, body);
    } catch (err) {
      submit.textContent = 'Ask for a new suggestion';
      askNow.textContent = 'Ask now';
      if (err.status === 409) {
        page.markStale(err.body.revision);
      } else {
        submit.disabled = false;
        askNow.disabled = false;
        clear(alert, errorBox(err, err.status === 422 ? 'This change cannot be made' : null));
        // Asked from the bar on a tablet: the panel with the message is below the cards.
        if (getComputedStyle(bar).display !== 'none') alert.scrollIntoView({block: 'center'});
        page.ctx.announce('The new suggestion could not be made.');
      }
      return;
    }
    await page.reload({after: true});
  });
  // On a tablet the panel comes after every card and the teachers without a pair: once a change is chosen, a bar
  // stays at the bottom of the window with the way to it (CSS shows it only where the panel is not beside the cards).
  // It asks right there too (with the panel's choice for the other pairs, said in the bar), so the request is never
  // a long scroll away from the cards.
  const barText = h('span', {class: 'panel-bar-text'});
  const barHint = h('span', {class: 'panel-bar-hint'});
  const askNow = h('button', {type: 'button', class: 'primary', onclick: () => form.requestSubmit()}, 'Ask now');
  const bar = h('div', {class: 'panel-bar'}, h('p', {class: 'panel-bar-words'}, barText, barHint),
    h('div', {class: 'panel-bar-buttons'},
      h('button', {type: 'button', onclick: () => {
        form.scrollIntoView({block: 'start'});
        form.querySelector('h2').focus();
      }}, 'Review and ask'), askNow));
  form.addEventListener('change', () => page.refreshPanel());
  // Once the panel itself is in sight, the bar has done its job.
  if (watching) watching.disconnect();
  const io = new IntersectionObserver((entries) => {
    for (const e of entries) bar.classList.toggle('near', e.isIntersecting);
  });
  io.observe(form);
  watching = io;
  page.ctx.signal.addEventListener('abort', () => io.disconnect(), {once: true});
  page.refreshPanel = () => {
    const items = [...page.pending.entries()];
    barText.textContent = `${items.length} change${items.length === 1 ? '' : 's'} chosen`;
    const choice = form.querySelector(`input[name="${stabilityName}"]:checked`);
    barHint.textContent = choice ? `; ${STABILITY_SHORT[choice.value]}` : '';
    askNow.disabled = !items.length || page.stale;
    bar.classList.toggle('has-changes', items.length > 0 && !page.stale);
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
  return {form, bar};
}

const DAY = {day: 'numeric', month: 'long'};

/** "3 September" (with the year when it is not this one). */
function dayOf(iso) {
  const d = new Date(iso);
  return d.toLocaleDateString('en-GB', d.getFullYear() === new Date().getFullYear() ? DAY : {...DAY, year: 'numeric'});
}

/**
 * The school's decisions this run carried from the run it started from (the API sends this school's only), by the
 * day and key that made them: "Carried from your school's changes of 3 September (Principal, Lincoln Elementary):
 * the pair Ana Diaz – Ben Ng stays refused." Those that cannot hold any more say why.
 */
function carriedSection(page) {
  const items = page.view.carried || [];
  if (!items.length) return null;
  const {people} = page;
  const who = (d, i) => (people.name(d.teacher_ids[i]) ? people.text(d.teacher_ids[i])
    : d.teacher_names[i] || d.teacher_ids[i]);
  const pair = (d) => `${who(d, 0)} – ${who(d, 1)}`;
  const said = (d) => (d.held
    ? {refused: `the pair ${pair(d)} stays refused`, kept: `the pair ${pair(d)} stays together`,
      removed: `${who(d, 0)} stays out of the suggestions (removed as having left)`}[d.kind]
    : {refused: `the refusal of the pair ${pair(d)} does not apply now (${d.reason})`,
      kept: `the pair ${pair(d)} could not stay together (${d.reason})`,
      removed: `${who(d, 0)} is in the suggestions again (${d.reason})`}[d.kind]);
  const groups = new Map();
  for (const d of items) {
    const k = `${dayOf(d.made_at)}\u0000${d.made_by}\u0000${d.pairing_id}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(d);
  }
  const principal = page.ctx.me.role === 'principal';
  const yours = principal ? 'your school\'s' : 'the school\'s';
  const id = newId('carried');
  return h('section', {class: 'carried', 'aria-labelledby': id},
    h('h2', {id}, principal ? 'Your earlier changes, carried into this run' : 'Earlier changes, carried into this run'),
    [...groups.values()].map((ds) => h('p', {}, `Carried from ${yours} changes of `,
      h('a', {href: route('pairings', ds[0].pairing_id, 'schools', page.key, 'revisions', String(ds[0].revision)),
        title: 'The school as that change left it, in the earlier run'}, dayOf(ds[0].made_at)),
      ` (${ds[0].made_by}): ${ds.map(said).join('; ')}.`)));
}

/** A run by when it was made; to the second where two were made in the same minute. */
function runLabel(runs, r) {
  const same = runs.filter((x) => when(x.created_at) === when(r.created_at)).length > 1;
  return same ? new Date(r.created_at).toLocaleString('en-US', {dateStyle: 'medium', timeStyle: 'medium'})
    : when(r.created_at);
}

/** The page of the school at a revision: the plain school address for the newest, else …/revisions/N. */
function revisionRoute(page, revision, latest) {
  return revision === latest ? route('pairings', page.runId, 'schools', page.key)
    : route('pairings', page.runId, 'schools', page.key, 'revisions', String(revision));
}

/** A teacher added by a re-match, as its request row names them. */
function addedName(row) {
  return String(row.teacher_name || row.name || [row.first_name, row.last_name].filter(Boolean).join(' ')).trim();
}

async function history(page, box) {
  const {ctx, base, key} = page;
  const data = await ctx.api.get(`${base}/schools/${encodeURIComponent(key)}/revisions`);
  // The history's names include teachers a re-match removed (they are no longer in the school's view).
  const people = directory([...Object.entries(data.names || {}), ...viewNames(page.view)]);
  const join = (parts) => parts.flatMap((x, i) => (i ? ['; ', ...x] : x));
  clear(box, h('ol', {class: 'history', start: 0}, data.revisions.map((r) => {
    const req = r.request || {};
    const asked = [];
    for (const [a, b] of req.forbid || []) asked.push(['do not pair ', people.el(a), ' and ', people.el(b)]);
    for (const [a, b] of req.keep || []) asked.push(['keep ', people.el(a), ' and ', people.el(b)]);
    for (const t of req.remove || []) asked.push(['remove ', people.el(t)]);
    for (const t of req.add || []) {
      asked.push(['add ', t.teacher_id ? (people.name(t.teacher_id) ? people.el(t.teacher_id)
        : named(addedName(t), t.teacher_id)) : addedName(t) || 'a teacher']);
    }
    // Each revision opens as the school stood then; who asked is the key's label (never its id).
    const title = r.revision === page.view.revision
      ? h('strong', {'aria-current': 'page'}, `Revision ${r.revision} (shown)`)
      : h('a', {href: revisionRoute(page, r.revision, data.revisions.length - 1)},
        h('strong', {}, `Revision ${r.revision}`));
    return h('li', {}, title, ` · ${when(r.created_at)} · ${r.created_by_label || 'unknown key'}: `,
      r.revision === 0 ? 'the run\'s suggestion' : ['asked to ', asked.length ? join(asked) : 'suggest again'],
      req.note ? ` (“${req.note}”)` : '', ` → ${r.n_pairs} pairs, value ${num(r.value)}, ${r.n_unmatched} without a pair.`);
  })));
}

/** ref: the school's key from the address (or its id; ids with '/', '..' or spaces are reached by their key). */
async function render(ctx, runId, ref, page = null, revision = null) {
  const base = `/v1/pairings/${encodeURIComponent(runId)}`;
  const at = revision === null ? '' : `?revision=${encodeURIComponent(revision)}`;
  const [run, view] = await Promise.all([ctx.api.get(base),
    ctx.api.get(`${base}/schools/${encodeURIComponent(ref)}${at}`)]);
  const {school_id: schoolId, key} = view;
  const dataset = await ctx.api.get(`/v1/datasets/${encodeURIComponent(run.dataset_id)}`);
  const rubric = await rubricFor(ctx.api, dataset.rubric);
  let siblings = [];
  if (ctx.me.role === 'principal' && ctx.me.schools.length > 1) {
    siblings = (await ctx.api.get(`${base}/schools`)).schools;
  }
  // A principal's runs all hold their schools (the API lists those only): earlier ones open from here.
  const runs = ctx.me.role !== 'principal' ? []
    : (await ctx.api.get('/v1/pairings')).pairings.filter((r) => r.status === 'succeeded');
  if (!ctx.alive()) return;

  const before = page && page.view ? {
    paired: new Set(page.view.pairs.flatMap((p) => [p.teacher_a, p.teacher_b])),
  } : null;
  page = {
    ctx, base, runId, schoolId, key, view, rubric, before, stale: false,
    // An earlier revision is there to read: changes are asked on the newest.
    readOnly: view.revision !== view.latest_revision,
    pending: new Map(),
    weak: run.policy.weak_below ?? rubric.weak_below,
    strong: run.policy.strong_at_least ?? rubric.strong_at_least,
    byArea: (run.policy.areas || 'thresholds') !== 'thresholds',
    teachers: new Map(view.teachers.map((t) => [t.teacher_id, t])),
    people: directory(viewNames(view)),
    labels: new Map(rubric.indicators.map((i) => [i.name, i.label])),
    diffNew: new Set(view.revision > 0 && view.diff ? view.diff.new.map((x) => pairKey(x.teacher_a, x.teacher_b))
      : []),
  };
  page.reload = async ({after}) => {
    await render(ctx, runId, ref, page);
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
    const {element, button: reload} = staleAlert({title: 'This school has changed since you opened it', current,
      shown: view.revision, advice: 'Reload to see the current suggestion, then ask again if you still need to.',
      reloadLabel: 'Reload the school', onReload: () => page.reload({after: false})});
    clear(staleBox, element);
    clear(page.panelAlert, h('p', {class: 'error'}, 'Reload the school first (see the message above).'));
    staleBox.scrollIntoView({block: 'center'});
    reload.focus();
  };

  const nTeachers = view.teachers.length;
  const mode = view.mode === 'one_way'
    ? 'One-way pairs: the first teacher (the partner) supports the second.'
    : 'Mutual pairs: each teacher supports the other where one has a reinforcement area and the other a '
      + 'refinement area.';
  const school = named(view.school_name, schoolId);
  ctx.title(`Suggested pairs · ${school}`);
  const several = view.teachers.some((t) => Object.values(t.observations || {}).some((n) => n > 1));
  const scores = !several ? ''
    : view.aggregate === 'latest' ? 'Each score is the teacher\'s latest observation on that indicator ("3 obs.": '
      + 'observed 3 times). '
      : `Each score is the ${view.aggregate || 'mean'} of the teacher's observations on that indicator ("3 obs.": `
        + `the ${view.aggregate || 'mean'} of 3). `;
  const reportButton = h('button', {type: 'button', onclick: () => download(ctx.api,
    `${base}/schools/${encodeURIComponent(key)}/report.html`, `${key}.html`)}, 'Download the report (HTML)');
  // The newest revision's handouts (the CLI's handouts/<key>/ folder), whichever revision the page shows.
  const handoutsButton = view.pairs.length ? actionButton('Download all handouts (zip)', () => download(ctx.api,
    `${base}/schools/${encodeURIComponent(key)}/handouts.zip`, `handouts-${key}.zip`)) : null;
  const historyBox = h('div', {}, 'Loading…');
  const details = h('details', {class: 'history-box'}, h('summary', {}, `History of this school `
    + `(${view.latest_revision + 1} revision${view.latest_revision === 0 ? '' : 's'})`), historyBox);
  details.addEventListener('toggle', () => {
    if (details.open) history(page, historyBox).catch((err) => clear(historyBox, errorBox(err)));
  }, {once: true});

  const side = page.readOnly ? null : panel(page);
  if (!side) page.refreshPanel = () => {};
  const newest = runs[0];  // newest first
  clear(ctx.main,
    h('div', {class: 'page-head'},
      h('h1', {}, `Suggested pairs · ${school}`),
      h('p', {class: 'meta'}, `Revision ${view.revision} · ${view.pairs.length} pair${view.pairs.length === 1 ? '' : 's'}`
        + ` · ${nTeachers} teachers · ${view.value_counts || `total value ${num(view.value)}`}`),
      h('p', {class: 'muted'}, `Run of ${when(run.created_at)} on “${dataset.name}”. ${mode} ${rubric.title}: `
        + `${view.areas_rule || `a refinement area is a score below ${num(page.weak)}, a reinforcement area `
        + `${num(page.strong)} or above`}. `
        + `${scores}These are suggestions for you to review; taking part is voluntary.`),
      siblings.length > 1 ? h('nav', {class: 'siblings', 'aria-label': 'Your schools'}, siblings.map((x) =>
        h('a', {href: route('pairings', runId, 'schools', x.key),
          'aria-current': x.school_id === schoolId ? 'page' : null}, named(x.school_name, x.school_id)))) : null,
      runs.length > 1 ? h('nav', {class: 'siblings runs-nav', 'aria-label': 'Runs'},
        h('span', {class: 'muted'}, 'Suggestions of'), runs.map((r) => h('a', {href: route('pairings', r.id,
          'schools', key), 'aria-current': r.id === runId ? 'page' : null}, runLabel(runs, r)))) : null,
      h('div', {class: 'buttons'}, reportButton, handoutsButton)),
    page.readOnly ? h('p', {class: 'notice earlier'}, `This is revision ${view.revision}, as the school stood then; `
      + `the current suggestion is revision ${view.latest_revision}. `,
    h('a', {href: route('pairings', runId, 'schools', key)}, 'Open the current suggestion')) : null,
    newest && newest.id !== runId ? h('p', {class: 'notice earlier'}, `This is an earlier run; the newest is of `
      + `${when(newest.created_at)}. `, h('a', {href: route('pairings', newest.id, 'schools', key)},
      'Open the newest run')) : null,
    carriedSection(page),
    staleBox,
    h('div', {class: ['school-grid', page.readOnly && 'read-only']},
      h('div', {class: 'school-main'},
        changesSection(page),
        h('section', {'aria-labelledby': 'pairs-title'},
          h('h2', {id: 'pairs-title'}, `Suggested pairs (${view.pairs.length})`),
          legend(page.weak, page.strong, page.byArea),
          view.pairs.length ? h('div', {class: 'cards'}, view.pairs.map((p) => pairCard(page, p)))
            : h('p', {}, 'No pairs: no two teachers here can support each other on one indicator.')),
        h('section', {'aria-labelledby': 'unmatched-title'},
          h('h2', {id: 'unmatched-title'}, `Teachers without a suggested pair (${view.unmatched.length})`),
          unmatchedList(page, view.unmatched)),
        details,
        side ? side.bar : null),
      side ? side.form : null));
  page.refreshPanel();
}

export const routes = [{
  pattern: /^\/pairings\/([^/]+)\/schools\/([^/]+)$/,
  roles: ['principal', 'state', 'researcher'],
  render: (ctx, runId, schoolId) => render(ctx, runId, schoolId),
}, {
  // An earlier revision of the school (the newest is the plain address above).
  pattern: /^\/pairings\/([^/]+)\/schools\/([^/]+)\/revisions\/(\d+)$/,
  roles: ['principal', 'state', 'researcher'],
  render: (ctx, runId, schoolId, revision) => render(ctx, runId, schoolId, null, Number(revision)),
}];
