// The state analyst's page: upload a teacher CSV (or make a synthetic district), start a pairing run, watch its
// progress, then a per-school table (pairs, coverage, value) with search and sort, and the downloads: pairs.csv
// and the per-school reports.

import {download} from '../api.js';
import {clear, h, named, num, pct, route, when} from '../dom.js';
import {actionButton, errorBox, field, sortableTable} from '../ui.js';

export const nav = {label: 'Pairing runs', href: '#/runs', roles: ['state', 'researcher'], active: /^\/runs/};

const POLL_MS = 400;
const SUBJECTS = {any: 'any', prefer_same: 'same preferred', require_same: 'same only', prefer_cross: 'different '
  + 'preferred'};

function datasetLabel(d) {
  return `${d.name} · ${num(d.n_teachers)} teachers in ${num(d.n_schools)} schools · ${when(d.created_at)}`;
}

function select(options, value) {
  return h('select', {}, options.map(([v, text]) => h('option', {value: v, selected: v === value}, text)));
}

function uploadForm(ctx, onDataset) {
  const file = h('input', {type: 'file', accept: '.csv,.xlsx,text/csv', required: true});
  const schools = h('input', {type: 'file', accept: '.csv,text/csv'});
  const rubric = select([['team', 'TEAM General Educator (1 to 5)'], ['danielson', 'Danielson Framework (1 to 4)']],
    'team');
  const name = h('input', {type: 'text', maxlength: 300});
  const out = h('div', {class: 'result', id: 'upload-result', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Upload');
  const form = h('form', {class: 'box'},
    h('h2', {}, 'Upload teachers'),
    field('upload-file', 'Teachers file (CSV or Excel)', file, 'As the observation system exports it (one row per '
      + 'observation or per teacher): teacher and school ids and names, subject, grades, years of experience and '
      + 'one column per rubric indicator.'),
    field('upload-rubric', 'Rubric', rubric),
    field('upload-schools', 'Schools CSV (optional)', schools, 'School names where the teachers file has none, and '
      + 'coordinates, for distance limits on pairs across schools.'),
    field('upload-name', 'Name (optional)', name),
    h('div', {class: 'buttons'}, submit), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!file.files.length) {
      clear(out, h('p', {class: 'error', role: 'alert'}, 'Choose the teachers file first.'));
      file.focus();
      return;
    }
    const data = new FormData();
    data.append('file', file.files[0]);
    if (schools.files.length) data.append('schools', schools.files[0]);
    data.append('rubric', rubric.value);
    if (name.value.trim()) data.append('name', name.value.trim());
    submit.disabled = true;
    clear(out, h('p', {}, 'Uploading and checking…'));
    try {
      const d = await ctx.api.upload('/v1/datasets', data);
      clear(out, h('p', {class: 'ok'}, `Uploaded “${d.name}”: ${num(d.n_teachers)} teachers in ${num(d.n_schools)} `
        + 'schools. It is selected below.'),
      d.warnings.length ? h('ul', {class: 'warnings'}, d.warnings.map((w) => h('li', {}, w))) : null);
      ctx.announce(`Uploaded ${d.n_teachers} teachers in ${d.n_schools} schools.`);
      form.reset();
      onDataset(d);
    } catch (err) {
      clear(out, errorBox(err, err.status === 422 ? 'The file has problems; nothing was stored' : null));
      ctx.announce('The upload was refused.');
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function syntheticForm(ctx, onDataset) {
  const schools = h('input', {type: 'number', min: 1, max: 2500, value: 14, required: true});
  const size = h('input', {type: 'number', min: 1, max: 200, value: 30, step: 'any', required: true});
  const seed = h('input', {type: 'number', min: 0, value: 1, required: true});
  const out = h('div', {class: 'result', 'aria-live': 'polite'});
  const form = h('form', {class: 'box'},
    h('h2', {}, ctx.me.role === 'state' ? 'Or make a synthetic district' : 'Make a synthetic district'),
    h('p', {class: 'hint'}, 'Made-up teachers with realistic scores, for trying settings (the same seed gives the '
      + 'same district).'),
    h('div', {class: 'row'}, field('syn-schools', 'Schools', schools), field('syn-size', 'Teachers per school', size),
      field('syn-seed', 'Seed', seed)),
    h('div', {class: 'buttons'}, h('button', {type: 'submit'}, 'Make the district')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const d = await ctx.api.post('/v1/datasets/synthetic', {schools: Number(schools.value),
        mean_size: Number(size.value), seed: Number(seed.value)});
      clear(out, h('p', {class: 'ok'}, `Made “${d.name}”: ${num(d.n_teachers)} teachers. It is selected below.`));
      onDataset(d);
    } catch (err) {
      clear(out, errorBox(err));
    }
  });
  return form;
}

function startForm(ctx, datasets, runs) {
  const dataset = h('select', {required: true});
  const fill = (selected) => {
    dataset.replaceChildren(...(datasets.length ? datasets.map((d) => h('option', {value: d.id,
      selected: d.id === selected}, datasetLabel(d))) : [h('option', {value: ''}, ctx.me.role === 'state' ? 'No datasets yet: upload one'
      : 'No datasets yet: make one')]));
  };
  fill(datasets[0] && datasets[0].id);
  const mode = select([['mutual', 'Mutual: each supports the other'],
    ['one_way', 'One-way: a partner supports a target']], 'mutual');
  const subject = select([['any', 'Any subject'], ['prefer_same', 'Prefer the same subject (among equally good)'],
    ['require_same', 'Same subject only'], ['prefer_cross', 'Prefer different subjects']], 'any');
  const done = runs.filter((r) => r.status === 'succeeded');
  const dsName = (id) => (datasets.find((d) => d.id === id) || {}).name || 'teachers not listed';
  // To the second where two runs were made in the same minute.
  const started = (r) => (done.filter((x) => when(x.created_at) === when(r.created_at)).length < 2 ? when(r.created_at)
    : new Date(r.created_at).toLocaleString('en-US', {dateStyle: 'medium', timeStyle: 'medium'}));
  const previous = select([['', 'None'], ...done.map((r) => [r.id, `Run of ${started(r)} · `
    + `${dsName(r.dataset_id)}`])], '');
  // The September re-run: an earlier run on teachers of the same schools is chosen at first (until one is picked
  // by hand), and the principals' changes on it are carried, so that nothing a principal decided comes back.
  let picked = false;
  previous.addEventListener('change', () => { picked = true; showCarry(); });
  const earlier = () => {
    const d = datasets.find((x) => x.id === dataset.value);
    if (!d || d.kind !== 'upload') return '';
    const schools = new Set((d.schools || []).map((x) => x.school_id));
    const shares = (r) => {
      const of = datasets.find((x) => x.id === r.dataset_id);
      return of && (of.schools || []).some((x) => schools.has(x.school_id));
    };
    return (done.find(shares) || {id: ''}).id;  // newest first
  };
  const carry = h('input', {type: 'checkbox', id: 'run-carry', checked: true});
  const stabilityRadios = [
    ['keep_untouched', 'Keep every earlier pair still allowed; pair only the others'],
    ['balanced', 'Keep earlier pairs unless changing them gives more support in total'],
    ['full', 'Pair afresh (the summary still says which earlier pairs changed)'],
  ].map(([value, text], i) => h('div', {class: 'radio'}, h('input', {type: 'radio', name: 'run-stability',
    id: `run-stability-${value}`, value, checked: i === 0}), h('label', {for: `run-stability-${value}`}, text)));
  const carryBox = h('fieldset', {class: 'carry-box'}, h('legend', {}, 'With the earlier run'),
    h('div', {class: 'radio'}, carry, h('label', {for: 'run-carry'}, 'Carry principals\' changes',
      h('span', {class: 'hint', id: 'run-carry-hint'}, ': refused pairs stay refused, kept pairs stay while allowed, '
        + 'removed teachers stay out while listed in the same school'))),
    h('fieldset', {class: 'inner'}, h('legend', {}, 'Earlier pairs'), stabilityRadios));
  carry.setAttribute('aria-describedby', 'run-carry-hint');
  function showCarry() { carryBox.hidden = !previous.value; }
  const choosePrevious = () => {
    if (!picked) previous.value = earlier();
    showCarry();
  };
  dataset.addEventListener('change', choosePrevious);
  const extra = h('textarea', {rows: 3, spellcheck: 'false', placeholder: '{"max_grade_distance": 2}'});
  const out = h('div', {class: 'result', 'aria-live': 'polite'});
  const form = h('form', {class: 'box'},
    h('h2', {}, 'Start a run'),
    field('run-dataset', 'Teachers', dataset),
    h('div', {class: 'row'}, field('run-mode', 'Pairs', mode), field('run-subject', 'Subjects', subject)),
    field('run-previous', 'Keep the pairs of an earlier run', previous, 'For the September re-run: last run\'s '
      + 'pairs stay wherever they are still allowed.'),
    carryBox,
    h('details', {}, h('summary', {}, 'More settings'),
      field('run-policy', 'Policy settings as JSON (see docs/policy.md, Settings)', extra)),
    h('div', {class: 'buttons'}, h('button', {type: 'submit', class: 'primary'}, 'Start the run')), out);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let policy = {};
    if (extra.value.trim()) {
      try {
        policy = JSON.parse(extra.value);
      } catch (e) {
        clear(out, h('p', {class: 'error', role: 'alert'}, `The settings are not valid JSON: ${e.message}`));
        extra.focus();
        return;
      }
    }
    const prev = previous.value || null;
    const stability = form.querySelector('input[name="run-stability"]:checked').value;
    policy = {mode: mode.value, subject: subject.value, ...(prev ? {previous_stability: stability} : {}), ...policy};
    try {
      const run = await ctx.api.post('/v1/pairings', {dataset_id: dataset.value, policy,
        previous_pairing_id: prev, ...(prev ? {carry_decisions: carry.checked} : {})});
      ctx.announce('Run started.');
      ctx.go(route('runs', run.id));
    } catch (err) {
      clear(out, errorBox(err, err.status === 422 ? 'The run cannot start with these settings' : null));
    }
  });
  choosePrevious();
  return {form, add(d) { datasets.unshift(d); fill(d.id); choosePrevious(); }};
}

async function list(ctx) {
  ctx.title('Pairing runs');
  const [ds, rs] = await Promise.all([ctx.api.get('/v1/datasets'), ctx.api.get('/v1/pairings')]);
  if (!ctx.alive()) return;
  const names = new Map(ds.datasets.map((d) => [d.id, d.name]));
  const start = startForm(ctx, ds.datasets, rs.pairings);
  const table = sortableTable([
    {key: 'created_at', label: 'Started', header: true, cell: (r) => h('a', {href: route('runs', r.id)},
      when(r.created_at))},
    {key: 'dataset', label: 'Teachers', value: (r) => names.get(r.dataset_id) || r.dataset_id},
    {key: 'status', label: 'Status', cell: (r) => h('span', {class: `status-${r.status}`}, r.status === 'running'
      ? `running ${pct(r.progress)}` : r.status)},
    {key: 'pairs', label: 'Pairs', numeric: true, value: (r) => (r.summary ? r.summary.n_pairs : -1),
      cell: (r) => (r.summary ? num(r.summary.n_pairs) : '')},
    {key: 'value', label: 'Total value', numeric: true, value: (r) => (r.summary ? r.summary.total_value : -1),
      cell: (r) => (r.summary ? num(r.summary.total_value) : '')},
  ], {caption: 'Pairing runs, newest first', initial: 'created_at', initialDir: -1, empty: 'No runs yet.'});
  table.update(rs.pairings);
  const forms = [ctx.me.role === 'state' ? uploadForm(ctx, (d) => start.add(d)) : null,
    syntheticForm(ctx, (d) => start.add(d))];
  clear(ctx.main, h('h1', {}, 'Pairing runs'),
    h('div', {class: 'forms'}, h('div', {class: 'stack'}, forms), start.form),
    h('section', {'aria-labelledby': 'runs-title'}, h('h2', {id: 'runs-title'}, 'Runs'),
      h('div', {class: 'table-wrap'}, table.element)));
}

function summaryList(s) {
  const rows = [
    ['Pairs', num(s.n_pairs)], ['Teachers in a pair', `${num(s.n_paired_teachers)} of ${num(s.n_teachers)}`],
    ['Schools', num(s.n_schools)], ['Total value', num(s.total_value)],
    ['Optimal', s.optimal ? 'yes, proven' : `not proven (${s.unproven_pools} pools stopped at the time limit)`],
    ['Solve time', `${num(s.solve_seconds, 2)} s`],
  ];
  return h('dl', {class: 'summary'}, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

async function schoolTable(ctx, run, box) {
  const base = `/v1/pairings/${encodeURIComponent(run.id)}`;
  const data = await ctx.api.get(`${base}/overview`);
  if (!ctx.alive()) return;
  const search = h('input', {type: 'search', autocomplete: 'off'});
  const count = h('p', {class: 'count', 'aria-live': 'polite'});
  const table = sortableTable([
    {key: 'school_name', label: 'School', header: true, value: (r) => (r.school_name || r.school_id).toLowerCase(),
      cell: (r) => h('a', {href: route('pairings', run.id, 'schools', r.key)}, r.school_name || r.school_id)},
    {key: 'school_id', label: 'ID', cell: (r) => h('span', {class: 'muted'}, r.school_id)},
    {key: 'n_pairs', label: 'Pairs', numeric: true, cell: (r) => num(r.n_pairs)},
    {key: 'n_teachers', label: 'Teachers', numeric: true, cell: (r) => num(r.n_teachers)},
    {key: 'coverage', label: 'In a pair', numeric: true, cell: (r) => h('span', {class: 'coverage'},
      h('meter', {min: 0, max: 1, value: r.coverage, 'aria-hidden': 'true'}), ' ',
      h('span', {class: 'pct'}, pct(r.coverage)))},
    {key: 'value', label: 'Value', numeric: true, cell: (r) => num(r.value)},
    {key: 'revision', label: 'Re-matches', numeric: true, cell: (r) => num(r.revision)},
    {key: 'report', label: 'Report', value: (r) => r.school_id, cell: (r) => h('button', {type: 'button',
      class: 'link', 'aria-label': `Download the report of ${named(r.school_name, r.school_id)}`,
      onclick: () => download(ctx.api, `${base}/schools/${encodeURIComponent(r.key)}/report.html`,
        `${r.key}.html`)}, 'HTML')},
  ], {caption: 'Schools as they stand now (principals\' re-matches included)', initial: 'school_id',
    empty: 'No school matches the search.'});
  const apply = () => {
    const q = search.value.trim().toLowerCase();
    // By id or by (part of) the name, whatever the case.
    const rows = q ? data.schools.filter((r) => r.school_id.toLowerCase().includes(q)
      || (r.school_name || '').toLowerCase().includes(q)) : data.schools;
    table.update(rows);
    count.textContent = `Showing ${rows.length} of ${data.schools.length} schools.`;
  };
  search.addEventListener('input', apply);
  apply();
  clear(box, h('h2', {id: 'schools-title'}, 'Schools'),
    h('div', {class: 'table-tools'}, field('school-search', 'Find a school', search, 'By name or id'), count),
    data.value_counts ? h('p', {class: 'muted'}, `Value: ${data.value_counts}.`) : null,
    h('div', {class: 'table-wrap schools-table'}, table.element));
}

async function detail(ctx, runId) {
  const base = `/v1/pairings/${encodeURIComponent(runId)}`;
  let run = await ctx.api.get(base);
  const dataset = await ctx.api.get(`/v1/datasets/${encodeURIComponent(run.dataset_id)}`);
  if (!ctx.alive()) return;
  ctx.title(`Run of ${when(run.created_at)}`);
  const progress = h('progress', {max: 100, value: 0, 'aria-labelledby': 'run-state'});
  const state = h('p', {id: 'run-state', class: 'run-state'});
  const result = h('div');
  const policy = run.policy;
  clear(ctx.main, h('h1', {}, `Pairing run of ${when(run.created_at)}`),
    h('p', {class: 'muted'}, `Teachers: “${dataset.name}” (${num(dataset.n_teachers)} in ${num(dataset.n_schools)} `
      + `schools). Pairs: ${policy.mode === 'one_way' ? 'one-way' : 'mutual'}; subjects: ${SUBJECTS[policy.subject]
        || policy.subject}.`),
    h('div', {class: 'progress-box'}, state, progress), result);

  const initial = run.status;
  let last = null;
  for (;;) {
    const pctDone = Math.round(run.progress * 100);
    progress.value = run.status === 'succeeded' ? 100 : pctDone;
    state.textContent = {queued: 'Waiting to start…', running: `Running: ${pctDone}%`,
      succeeded: 'Finished.', failed: 'The run failed.'}[run.status];
    if (run.status !== last && run.status !== 'succeeded') ctx.announce(state.textContent);
    last = run.status;
    if (run.status === 'succeeded' || run.status === 'failed') break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!ctx.alive()) return;
    run = await ctx.api.get(base);
    if (!ctx.alive()) return;
  }
  progress.hidden = run.status === 'failed';
  if (run.status === 'failed') {
    clear(result, errorBox({status: 422, body: run.error || {}}, 'The run failed'));
    return;
  }
  const s = run.summary || {};
  const tableBox = h('section', {'aria-labelledby': 'schools-title'}, h('p', {}, 'Loading the schools…'));
  clear(result, summaryList(s),
    h('div', {class: 'buttons downloads'},
      actionButton('Download pairs.csv', () => download(ctx.api, `${base}/pairs.csv`, `pairs-${runId}.csv`)),
      actionButton('pairs.csv with re-matches', () => download(ctx.api, `${base}/pairs.csv?current=true`,
        `pairs-current-${runId}.csv`)),
      actionButton('All school reports (zip)', () => download(ctx.api, `${base}/reports.zip`,
        `reports-${runId}.zip`))),
    tableBox);
  if (initial !== 'succeeded') ctx.announce(`Finished: ${num(s.n_pairs)} pairs in ${num(s.n_schools)} schools.`);
  await schoolTable(ctx, run, tableBox);
}

export const routes = [
  {pattern: /^\/runs$/, roles: ['state', 'researcher'], render: list},
  {pattern: /^\/runs\/([^/]+)$/, roles: ['state', 'researcher'], render: detail},
];
