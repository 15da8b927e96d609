// School networks (state office): form them from a schools CSV, then see hosts and partners drawn from their
// latitude and longitude (an SVG made here: no map tiles, nothing from the internet), one colour per shared focus
// area, and the same networks as a list with every school's reason and every left-out school's. From a run's page:
// networks.csv and every network's printable page, re-forming one network (schools that leave, schools to keep
// apart) and assigning facilitators from a CSV. A change names the revision the page shows; if someone saved another
// one meanwhile the API answers 409 and the page says so and offers a reload (it never re-sends on its own).

import {download} from '../api.js';
import {clear, h, named, newId, num, route, when, words} from '../dom.js';
import {facilitatorLine, facilitatorName, focusColors, drawMap, kmText, kmToHost, mapLegend, pageLink, schoolFacts,
  swatch} from '../netparts.js';
import {actionButton, errorBox, field, sortableTable, staleAlert} from '../ui.js';

export const nav = {label: 'School networks', href: '#/networks', roles: ['state'], active: /^\/networks/};

async function list(ctx) {
  ctx.title('School networks');
  const runs = (await ctx.api.get('/v1/networks')).network_runs;
  if (!ctx.alive()) return;
  const file = h('input', {type: 'file', accept: '.csv,text/csv', required: true});
  const shape = h('select', {}, [['triad', 'Triads: a host and 2 partners'], ['quad', 'Quads: a host and 3 partners'],
    ['pair', 'Pairs: a host and 1 partner'], ['cohort', 'Cohorts: a host and 4 to 8 partners']]
    .map(([v, t]) => h('option', {value: v}, t)));
  const km = h('input', {type: 'number', min: 1, step: 'any'});
  const out = h('div', {class: 'result', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Form networks');
  const form = h('form', {class: 'box'}, h('h2', {}, 'Form networks'),
    field('net-file', 'Schools CSV', file, 'One row per school that applied: school_id, name, district_id, level, '
      + 'grades, latitude, longitude, role (host, partner or either), strengths, needs.'),
    h('div', {class: 'row'}, field('net-shape', 'Networks', shape), field('net-km', 'At most this many km apart '
      + '(optional)', km)),
    h('div', {class: 'buttons'}, submit), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!file.files.length) {
      clear(out, h('p', {class: 'error', role: 'alert'}, 'Choose the schools CSV first.'));
      file.focus();
      return;
    }
    const policy = {shape: shape.value};
    if (km.value) policy.max_km = Number(km.value);
    const data = new FormData();
    data.append('file', file.files[0]);
    data.append('policy', JSON.stringify(policy));
    submit.disabled = true;
    clear(out, h('p', {}, 'Forming the networks (this can take up to a minute for a whole city)…'));
    try {
      const made = await ctx.api.upload('/v1/networks', data);
      ctx.announce(`Formed ${made.networks.length} networks.`);
      ctx.go(route('networks', made.id));
    } catch (err) {
      clear(out, errorBox(err, err.status === 422 ? 'The file or settings have problems' : null));
      submit.disabled = false;
    }
  });
  const table = sortableTable([
    {key: 'created_at', label: 'Formed', header: true, cell: (r) => h('a', {href: route('networks', r.id)},
      when(r.created_at))},
    {key: 'name', label: 'File'},
    {key: 'n_networks', label: 'Networks', numeric: true, cell: (r) => num(r.n_networks)},
    {key: 'n_placed', label: 'Schools placed', numeric: true, cell: (r) => num(r.n_placed)},
    {key: 'n_left_out', label: 'Left out', numeric: true, cell: (r) => num(r.n_left_out)},
    {key: 'latest_revision', label: 'Revision', numeric: true, cell: (r) => num(r.latest_revision)},
  ], {caption: 'Network runs, newest first', initial: 'created_at', initialDir: -1, empty: 'None yet.'});
  table.update(runs);
  clear(ctx.main, h('h1', {}, 'School networks'), form,
    h('section', {'aria-labelledby': 'netruns-title'}, h('h2', {id: 'netruns-title'}, 'Network runs'),
      h('div', {class: 'table-wrap'}, table.element)));
}

/** A network as a set, to tell which networks a change made (same host, partners and focus: the same network). */
const signature = (net) => `${net.leader}\u0000${[...net.members].sort().join('\u0001')}\u0000${net.focus_area}`;

/** What a re-form or an assignment changed, against the revision the page showed before it. */
function changesSection(page, before) {
  const {run, name} = page;
  if (!before || before.run.revision >= run.revision) return null;
  const was = new Set(before.run.networks.map(signature));
  const now = new Set(run.networks.map(signature));
  const made = run.networks.filter((n) => !was.has(signature(n)));
  const ended = before.run.networks.filter((n) => !now.has(signature(n)));
  const newlyOut = Object.keys(run.left_out).filter((sid) => !(sid in before.run.left_out));
  const nowIn = Object.keys(before.run.left_out).filter((sid) => !(sid in run.left_out));
  const netLine = (n) => h('li', {}, h('strong', {}, `${n.network_id} · ${words(n.focus_area)}`),
    `: host ${name(n.leader)}; partner${n.members.length === 1 ? '' : 's'} ${n.members.map(name).join(', ')}`);
  const headingId = newId('changes');
  const same = !made.length && !ended.length && !newlyOut.length && !nowIn.length;
  return h('section', {class: 'changes', 'aria-labelledby': headingId},
    h('h2', {id: headingId, tabindex: '-1'}, `What changed in revision ${run.revision}`),
    before.said ? h('p', {}, before.said) : null,
    before.what === 'reform' && same ? h('p', {}, 'The networks are the same as before.') : null,
    ended.length ? h('div', {}, h('h3', {}, 'Before the change'), h('ul', {class: 'broken'}, ended.map(netLine)))
      : null,
    made.length ? h('div', {}, h('h3', {}, 'After the change (highlighted below)'),
      h('ul', {class: 'added'}, made.map(netLine))) : null,
    newlyOut.length ? h('div', {}, h('h3', {}, 'Schools now left out'), h('ul', {class: 'broken'},
      newlyOut.map((sid) => h('li', {}, h('strong', {}, name(sid)), `: ${run.left_out[sid]}`)))) : null,
    nowIn.length ? h('div', {}, h('h3', {}, 'Schools now in a network'), h('ul', {class: 'added'},
      nowIn.map((sid) => h('li', {}, h('strong', {}, name(sid)))))) : null);
}

function downloadsBox(page) {
  const {ctx, base, id, run} = page;
  const at = `?revision=${run.revision}`;
  return h('section', {class: 'box', 'aria-labelledby': 'net-downloads-title'},
    h('h2', {id: 'net-downloads-title'}, 'Downloads'),
    h('p', {class: 'hint'}, `As revision ${run.revision} stands: every school with its network, role and reason; `
      + 'and each network\'s page to print for its schools.'),
    h('div', {class: 'buttons downloads'},
      actionButton('Download networks.csv', () => download(ctx.api, `${base}/networks.csv${at}`,
        `networks-${id}-r${run.revision}.csv`)),
      actionButton('Every network\'s page (zip)', () => download(ctx.api, `${base}/pages.zip${at}`,
        `network-pages-${id}-r${run.revision}.zip`))));
}

function facilitatorsBox(page) {
  const {ctx, base, run, name} = page;
  const file = h('input', {type: 'file', accept: '.csv,text/csv', required: true});
  const caseload = h('input', {type: 'number', min: 1, max: 50, step: 1, inputmode: 'numeric'});
  const out = h('div', {class: 'result', 'aria-live': 'polite'});
  const assigned = run.facilitators || null;
  const submit = h('button', {type: 'submit', class: 'primary'}, assigned ? 'Assign again from this file'
    : 'Assign facilitators');
  const hostOf = new Map(run.networks.map((n) => [n.network_id, n.leader]));
  let table = null;
  if (assigned && assigned.length) {
    const rows = [...assigned].sort((a, b) => (a.facilitator_id < b.facilitator_id ? -1
      : a.facilitator_id > b.facilitator_id ? 1 : a.network_id < b.network_id ? -1 : 1));
    const total = rows.reduce((sum, f) => sum + (typeof f.km_to_host === 'number' ? f.km_to_host : 0), 0);
    const people = new Set(rows.map((f) => f.facilitator_id)).size;
    table = h('div', {class: 'table-wrap'}, h('table', {class: 'data facilitators'},
      h('caption', {}, `${people} facilitator${people === 1 ? '' : 's'} for ${rows.length} network`
        + `${rows.length === 1 ? '' : 's'} · ${kmText(total)} in total to the hosts`),
      h('thead', {}, h('tr', {}, ['Facilitator', 'Network', 'Host', 'To the host'].map((c, i) => h('th',
        {scope: 'col', class: i === 3 ? 'num' : null}, c)))),
      h('tbody', {}, rows.map((f) => h('tr', {},
        h('th', {scope: 'row'}, facilitatorName(f)), h('td', {}, f.network_id),
        h('td', {}, hostOf.has(f.network_id) ? name(hostOf.get(f.network_id)) : ''),
        h('td', {class: 'num'}, kmText(f.km_to_host)))))));
  }
  const form = h('form', {class: 'box fac-form', 'aria-labelledby': 'fac-title'},
    h('h2', {id: 'fac-title', tabindex: '-1'}, 'Facilitators'),
    table || h('p', {class: 'muted'}, assigned ? 'No network has a facilitator.' : 'None assigned yet.'),
    field('fac-file', 'Facilitators CSV', file, 'One row per facilitator: facilitator_id, latitude, longitude, and '
      + 'optionally caseload and name. Each network gets one facilitator, none more than their caseload, with the '
      + 'least travel to the hosts in total.'),
    field('fac-caseload', 'Networks per facilitator (optional)', caseload, 'Where the file gives no caseload; '
      + 'facilitators usually carry 3 or 4 networks.'),
    h('div', {class: 'buttons'}, submit), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (page.stale) return;
    if (!file.files.length) {
      clear(out, h('p', {class: 'error', role: 'alert'}, 'Choose the facilitators CSV first.'));
      file.focus();
      return;
    }
    const data = new FormData();
    data.append('file', file.files[0]);
    data.append('revision', String(run.revision));
    if (caseload.value) data.append('caseload', caseload.value);
    submit.disabled = true;
    clear(out, h('p', {}, 'Assigning…'));
    let made;
    try {
      made = await ctx.api.upload(`${base}/facilitators`, data);
    } catch (err) {
      submit.disabled = false;
      if (err.status === 409) {
        clear(out);
        page.markStale(err.body.revision);
      } else {
        clear(out, errorBox(err, err.status === 422 ? 'The facilitators file has problems; nothing was stored'
          : null));
        ctx.announce('The facilitators were not assigned.');
      }
      return;
    }
    const n = (made.facilitators || []).length;
    await page.reload({run, what: 'facilitators', focus: '#fac-title',
      said: `Facilitators assigned from ${file.files[0].name}: ${n} network${n === 1 ? '' : 's'} with a facilitator.`});
  });
  return form;
}

/** The re-form control of one network: schools that leave, pairs of schools to keep apart, a note. */
function reformPanel(page, net) {
  const {ctx, base, run, name} = page;
  const panelId = newId('reform');
  const titleId = `${panelId}-title`;
  const open = h('button', {type: 'button', class: 'reform-toggle', 'aria-expanded': 'false',
    'aria-controls': panelId, 'aria-label': `Re-form this network (${net.network_id})`}, 'Re-form this network');
  const removes = net.schools.map((x) => {
    const box = h('input', {type: 'checkbox', id: `${panelId}-rm-${x.school_id}`, value: x.school_id});
    return {x, box, el: h('div', {class: 'check'}, box, h('label', {for: box.id}, `${name(x.school_id)}, ${x.role}`))};
  });
  // Schools to keep apart: this network's and the schools left out (they may join it).
  const candidates = [...net.schools.map((x) => x.school_id), ...Object.keys(run.left_out)];
  const options = () => [h('option', {value: ''}, 'Choose a school'),
    h('optgroup', {label: 'In this network'}, net.schools.map((x) => h('option', {value: x.school_id},
      name(x.school_id)))),
    Object.keys(run.left_out).length ? h('optgroup', {label: 'Left out (may join)'},
      Object.keys(run.left_out).map((sid) => h('option', {value: sid}, name(sid)))) : null];
  const first = h('select', {id: `${panelId}-a`}, options());
  const second = h('select', {id: `${panelId}-b`}, options());
  const pairs = [];
  const pairList = h('ul', {class: 'pending'});
  const pairAlert = h('div', {class: 'pair-alert'});
  const drawPairs = () => {
    pairList.replaceChildren(...(pairs.length ? pairs.map((p, i) => h('li', {}, `${name(p[0])} and ${name(p[1])}`,
      ' ', h('button', {type: 'button', class: 'link', 'aria-label': `Undo: keep ${name(p[0])} and ${name(p[1])} apart`,
        onclick: () => {
          pairs.splice(i, 1);
          drawPairs();
          ctx.announce('Removed from the schools to keep apart.');
        }}, 'undo'))) : [h('li', {class: 'muted'}, 'None.')]));
  };
  drawPairs();
  const add = h('button', {type: 'button', onclick: () => {
    clear(pairAlert);
    clear(alert);
    const a = first.value;
    const b = second.value;
    if (!a || !b || a === b) {
      clear(pairAlert, h('p', {class: 'error', role: 'alert'}, 'Choose two different schools.'));
      (a ? second : first).focus();
      return;
    }
    const key = [a, b].sort().join('\u0000');
    if (!pairs.some((p) => [...p].sort().join('\u0000') === key)) pairs.push([a, b]);
    drawPairs();
    first.value = '';
    second.value = '';
    ctx.announce(`Added: keep ${name(a)} and ${name(b)} apart.`);
  }}, 'Add this pair');
  const note = h('textarea', {rows: 2, maxlength: 2000, id: `${panelId}-note`});
  const submit = h('button', {type: 'submit', class: 'primary'}, `Re-form ${net.network_id}`);
  const alert = h('div', {class: 'panel-alert'});
  const form = h('form', {class: 'reform', id: panelId, 'aria-labelledby': titleId, hidden: true},
    h('h4', {id: titleId, tabindex: '-1'}, `Re-form ${net.network_id}`),
    h('p', {class: 'hint'}, `The other networks stay as they are; schools left out may join this one. The result `
      + `becomes revision ${run.revision + 1}.`),
    h('div', {class: 'reform-choices'},
      h('fieldset', {}, h('legend', {}, 'Schools that leave the program'), removes.map((r) => r.el)),
      candidates.length > 1 ? h('fieldset', {class: 'apart'}, h('legend', {}, 'Keep two schools apart'),
        h('div', {class: 'row'}, field(first.id, 'School', first), field(second.id, 'and school', second)),
        h('div', {class: 'buttons'}, add), pairAlert, pairList) : null),
    h('div', {class: 'field'}, h('label', {for: note.id}, 'Note for the record (optional)'), note),
    h('div', {class: 'buttons'}, submit, h('button', {type: 'button', class: 'quiet', onclick: () => {
      form.hidden = true;
      open.setAttribute('aria-expanded', 'false');
      open.focus();
    }}, 'Cancel')),
    alert);
  // A choice answers the "choose something first" message.
  form.addEventListener('change', () => { if (!page.stale) clear(alert); });
  open.addEventListener('click', () => {
    form.hidden = !form.hidden;
    open.setAttribute('aria-expanded', String(!form.hidden));
    if (!form.hidden) form.querySelector('h4').focus();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (page.stale) return;
    clear(alert);
    const remove = removes.filter((r) => r.box.checked).map((r) => r.x.school_id);
    if (!remove.length && !pairs.length) {
      clear(alert, h('p', {class: 'error', role: 'alert'}, 'Tick a school that leaves, or add two schools to keep '
        + 'apart, first.'));
      return;
    }
    const body = {revision: run.revision, network_id: net.network_id, remove, avoid: pairs.map((p) => [...p]),
      note: note.value.trim() || null};
    submit.disabled = true;
    submit.textContent = 'Re-forming…';
    try {
      await ctx.api.post(`${base}/rematch`, body);
    } catch (err) {
      submit.textContent = `Re-form ${net.network_id}`;
      if (err.status === 409) {
        page.markStale(err.body.revision);
      } else {
        submit.disabled = false;
        clear(alert, errorBox(err, err.status === 422 ? 'This network cannot be re-formed so' : null));
        ctx.announce('The network was not re-formed.');
      }
      return;
    }
    const parts = [];
    if (remove.length) parts.push(`without ${remove.map(name).join(', ')}`);
    if (pairs.length) parts.push(`keeping ${pairs.map((p) => `${name(p[0])} and ${name(p[1])}`).join('; ')} apart`);
    await page.reload({run, what: 'reform', focus: '.changes h2',
      said: `${net.network_id} re-formed ${parts.join(', ')}${body.note ? ` (“${body.note}”)` : ''}.`});
  });
  return {open, form};
}

function networkCard(page, net, fresh) {
  const {colors, name, byId, run} = page;
  const titleId = newId('net');
  const reform = reformPanel(page, net);
  return h('article', {class: ['card', 'network-card', fresh && 'changed'], 'aria-labelledby': titleId},
    h('header', {class: 'card-head'}, swatch(colors.get(net.focus_area)),
      h('h3', {id: titleId}, `${net.network_id} · ${words(net.focus_area)}`),
      fresh ? h('span', {class: 'badge new'}, 'Re-formed') : null),
    facilitatorLine(run, net),
    h('ul', {class: 'members'}, net.schools.map((x) => {
      const facts = [schoolFacts(byId.get(x.school_id)), kmText(kmToHost(x, net, byId))
        && `${kmText(kmToHost(x, net, byId))} from the host`].filter(Boolean).join(' · ');
      return h('li', {}, h('strong', {}, name(x.school_id)), ` · ${x.role}${x.pod ? `, pod ${x.pod}` : ''}`,
        facts ? h('span', {class: 'facts'}, facts) : null, h('p', {class: 'why'}, x.explanation));
    })),
    pageLink(page.ctx, page.base, run, net),
    h('div', {class: 'actions'}, reform.open), reform.form);
}

async function detail(ctx, id, before = null) {
  const base = `/v1/networks/${encodeURIComponent(id)}`;
  const [run, files] = await Promise.all([ctx.api.get(base), ctx.api.get(`${base}/schools`)]);
  if (!ctx.alive()) return;
  ctx.title(`Networks: ${run.name}`);
  const schools = files.schools;
  const byId = new Map(schools.map((x) => [x.school_id, x]));
  const colors = focusColors(run.networks);
  const sm = run.summary || {};
  const proof = sm.optimal ? 'optimal (proven)' : sm.gap !== undefined && sm.gap !== null
    ? `within ${num(sm.gap * 100, 2)}% of the best possible` : '';
  const names = run.school_names || {};
  const nameOf = (sid) => names[sid] || (byId.get(sid) ? byId.get(sid).school_name || byId.get(sid).name : '');
  const name = (sid) => named(nameOf(sid), sid);
  const page = {ctx, base, id, run, byId, colors, name, stale: false};
  page.reload = async (after) => {
    await detail(ctx, id, after);
    if (!ctx.alive()) return;
    const target = after && after.focus ? ctx.main.querySelector(after.focus) : null;
    const meta = ctx.main.querySelector('.meta');
    if (target) {
      target.focus();
      target.scrollIntoView({block: 'start'});
    } else {
      ctx.main.querySelector('h1').focus();
    }
    ctx.announce(`${after && after.said ? after.said : 'Reloaded.'} ${meta ? meta.textContent : ''}`);
  };
  const staleBox = h('div', {class: 'stale-box'});
  page.markStale = (current) => {
    page.stale = true;
    for (const b of ctx.main.querySelectorAll('form.reform button[type=submit], form.fac-form button[type=submit]')) {
      b.disabled = true;
    }
    const {element, button} = staleAlert({title: 'The networks have changed since you opened them', current,
      shown: run.revision, advice: 'Reload to see the networks as they are now, then make your change again if you '
        + 'still need to.', reloadLabel: 'Reload the networks', onReload: () => page.reload(null)});
    clear(staleBox, element);
    staleBox.scrollIntoView({block: 'center'});
    button.focus();
  };
  const fresh = new Set();
  if (before && before.what === 'reform' && before.run.revision < run.revision) {
    const was = new Set(before.run.networks.map(signature));
    for (const n of run.networks) if (!was.has(signature(n))) fresh.add(n.network_id);
  }
  const newlyOut = new Set(before ? Object.keys(run.left_out).filter((sid) => !(sid in before.run.left_out)) : []);
  const left = Object.entries(run.left_out);
  const nFac = new Set((run.facilitators || []).map((f) => f.facilitator_id)).size;
  clear(ctx.main,
    h('h1', {}, `School networks · ${run.name}`),
    h('p', {class: 'meta'}, `Revision ${run.revision} · ${run.networks.length} networks · `
      + `${num(sm.n_placed ?? schools.length - left.length)} schools placed · ${left.length} left out`
      + (run.facilitators ? ` · ${nFac} facilitator${nFac === 1 ? '' : 's'}` : '') + (proof ? ` · ${proof}` : '')),
    h('p', {class: 'muted'}, `Formed ${when(run.created_at)}. Each network shares one focus area: a strength of its `
      + 'host and an area every partner wants to work on.'),
    staleBox,
    changesSection(page, before),
    h('div', {class: 'net-tools'}, downloadsBox(page), facilitatorsBox(page)),
    h('figure', {class: 'map-box'}, drawMap(run, schools, colors, nameOf),
      h('figcaption', {}, mapLegend(colors))),
    h('section', {'aria-labelledby': 'nets-title'}, h('h2', {id: 'nets-title'}, `Networks (${run.networks.length})`),
      run.networks.length ? h('div', {class: 'cards'}, run.networks.map((net) => networkCard(page, net,
        fresh.has(net.network_id)))) : h('p', {}, 'No networks in this revision.')),
    h('section', {'aria-labelledby': 'left-title'}, h('h2', {id: 'left-title'}, `Left out (${left.length})`),
      left.length ? h('ul', {class: 'unmatched'}, left.map(([sid, why]) => h('li',
        {class: newlyOut.has(sid) ? 'changed' : null}, h('strong', {}, name(sid)),
        h('p', {class: 'why'}, why)))) : h('p', {}, 'Every school is in a network.')));
}

export const routes = [
  {pattern: /^\/networks$/, roles: ['state'], render: list},
  {pattern: /^\/networks\/([^/]+)$/, roles: ['state'], render: (ctx, id) => detail(ctx, id)},
];
