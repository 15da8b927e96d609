// Rollout simulations (researchers and the state office): start one from a small design (a synthetic district or
// a stored dataset, the assignment, take-up, the effect, replications and an optional power curve), follow its
// progress, then read each estimator's operating characteristics, the first draw's balance, and the power curve
// (drawn here from the JSON rows, and the simulator's own PNG), and download the files `matcher simulate` writes.
// Every setting is checked by the API: its 422 problems (named section.key) are shown next to the form.

import {download} from '../api.js';
import {clear, h, num, pct, route, when, words} from '../dom.js';
import {powerCurve} from '../powercurve.js';
import {actionButton, errorBox, field, sortableTable} from '../ui.js';

export const nav = {label: 'Rollouts', href: '#/rollouts', roles: ['state', 'researcher'], active: /^\/rollouts/};

const POLL_MS = 400;
const LIST_POLL_MS = 1500;
const METHODS = {complete: 'Complete randomization', blocked: 'Blocked', matched_pairs: 'Matched pairs of schools',
  rerandomized: 'Re-randomized until balanced'};
const BLOCKS = [['district_id', 'district'], ['size_band', 'size band (thirds)'],
  ['score_quartile', 'score quartile']];
const ESTIMATORS = {difference_in_means: 'Difference in means', regression: 'Regression (baseline, blocks)',
  complier_iv: 'Complier effect (2SLS)'};
const VARY = {effect_target: 'Effect on targets\' students (SD)', schools: 'Number of schools'};

/** 0.1234 -> '0.123'; null -> '–'. Three decimals everywhere in the tables, so columns line up. */
function dec(x, digits = 3) {
  return x === null || x === undefined || Number.isNaN(x) ? '–' : Number(x).toFixed(digits);
}

function estimatorLabel(name) {
  return ESTIMATORS[name] || words(name);
}

function populationText(design, datasets) {
  const pop = design.population || {};
  if (pop.dataset_id) {
    const d = datasets && datasets.get(pop.dataset_id);
    return d ? `dataset “${d.name}”` : `dataset ${pop.dataset_id}`;
  }
  const syn = pop.synthetic || {};
  return `synthetic district: ${num(syn.schools)} schools, ${num(syn.mean_size)} teachers each, seed ${num(syn.seed)}`;
}

function designText(design) {
  const a = design.assignment || {};
  const t = design.takeup || {};
  const parts = [`${METHODS[a.method] || words(a.method)}${a.method === 'blocked' && a.blocks
    ? ` by ${a.blocks.map(words).join(', ')}` : ''}`, `${pct(a.treated_share)} treated`];
  if (t.principals < 1 || t.teachers < 1) {
    parts.push(`take-up ${pct(t.principals)} of principals, ${pct(t.teachers)} of teachers`);
  }
  parts.push(`effect on targets ${num(design.outcome.effect_target)} SD`,
    `${num(design.simulation.replications)} replications`);
  if (design.power_curve) {
    parts.push(`power curve over ${design.power_curve.values.length} ${design.power_curve.vary === 'schools'
      ? 'numbers of schools' : 'effects'}`);
  }
  return parts.join(' · ');
}

function statusCell(r) {
  if (r.status === 'running' || r.status === 'queued') {
    return h('span', {class: `status-${r.status}`},
      h('progress', {class: 'mini', max: 100, value: Math.round(r.progress * 100), 'aria-hidden': 'true'}), ' ',
      r.status === 'running' ? `running ${pct(r.progress)}` : 'queued');
  }
  return h('span', {class: `status-${r.status}`}, r.status);
}

// The form -------------------------------------------------------------------------------------------------------

function numberInput(value, attrs = {}) {
  return h('input', {type: 'number', step: 'any', inputmode: 'decimal', value, ...attrs});
}

/** The form's fields, keyed by the API's section.key names so that each problem lands next to its field. */
function designForm(ctx, datasets) {
  const f = {};
  const fields = {};
  const put = (key, id, label, control, hint) => {
    f[key] = control;
    fields[key] = field(id, label, control, hint);
    return fields[key];
  };

  // Population.
  const synthetic = h('input', {type: 'radio', name: 'population', value: 'synthetic', checked: true});
  const stored = h('input', {type: 'radio', name: 'population', value: 'dataset', disabled: !datasets.length});
  const synBox = h('div', {},
    h('div', {class: 'pair'},
      put('population.synthetic.schools', 'ro-schools', 'Schools', numberInput(20, {min: 2, max: 5000, step: 1})),
      put('population.synthetic.seed', 'ro-pseed', 'Seed', numberInput(1, {min: 0, step: 1}))),
    put('population.synthetic.mean_size', 'ro-size', 'Teachers per school', numberInput(30, {min: 1})));
  const dataset = h('select', {}, datasets.length
    ? datasets.map((d) => h('option', {value: d.id}, `${d.name} · ${num(d.n_teachers)} teachers in `
      + `${num(d.n_schools)} schools`))
    : h('option', {value: ''}, 'No dataset you may use yet'));
  const dsBox = h('div', {hidden: true}, put('population.dataset_id', 'ro-dataset', 'Dataset', dataset,
    ctx.me.role === 'researcher' ? 'Researcher keys use synthetic datasets only.' : null));
  const population = h('fieldset', {},
    h('legend', {}, 'Population'),
    h('label', {class: 'radio'}, synthetic, h('span', {}, 'A synthetic district (the same seed, the same district)')),
    h('label', {class: 'radio'}, stored, h('span', {}, datasets.length ? 'A stored dataset'
      : 'A stored dataset (none you may use yet)')),
    synBox, dsBox);
  const pickPopulation = () => {
    synBox.hidden = !synthetic.checked;
    dsBox.hidden = synthetic.checked;
  };
  synthetic.addEventListener('change', pickPopulation);
  stored.addEventListener('change', pickPopulation);

  // Assignment.
  const method = h('select', {}, Object.entries(METHODS).map(([v, t]) => h('option', {value: v}, t)));
  const blockChecks = BLOCKS.map(([code, label]) => h('input', {type: 'checkbox', value: code,
    checked: code === 'size_band'}));
  const otherBlocks = h('input', {type: 'text', spellcheck: 'false', autocomplete: 'off',
    placeholder: 'level, region'});
  const pool = h('input', {type: 'checkbox'});
  const blocksBox = h('fieldset', {class: 'inner', hidden: true},
    h('legend', {}, 'Block columns'),
    BLOCKS.map(([, label], i) => h('label', {class: 'radio'}, blockChecks[i], h('span', {}, label))),
    put('assignment.blocks', 'ro-blocks', 'Other school columns (comma-separated)', otherBlocks),
    h('label', {class: 'radio'}, pool, h('span', {}, 'Randomize blocks of one school together')));
  f['assignment.small_blocks'] = pool;
  fields['assignment.small_blocks'] = blocksBox;
  const threshold = numberInput(0.1, {min: 0});
  const thresholdField = put('assignment.balance_threshold', 'ro-threshold', 'Balance threshold (SMD)', threshold,
    'Re-randomized designs draw until every covariate is within it.');
  const assignment = h('fieldset', {},
    h('legend', {}, 'Assignment of schools'),
    put('assignment.method', 'ro-method', 'Method', method),
    blocksBox,
    put('assignment.treated_share', 'ro-share', 'Treated share', numberInput(0.5, {min: 0, max: 1})),
    thresholdField);
  const pickMethod = () => {
    blocksBox.hidden = method.value !== 'blocked';
  };
  method.addEventListener('change', pickMethod);

  // Take-up and effect; replications and the power curve.
  const decide = h('select', {}, h('option', {value: 'after_pairing'}, 'After pairing'),
    h('option', {value: 'before_pairing'}, 'Before pairing'));
  const takeup = h('fieldset', {},
    h('legend', {}, 'Take-up and effect'),
    h('p', {class: 'hint'}, 'Shares from 0 to 1.'),
    put('takeup.principals', 'ro-principals', 'Principals who implement', numberInput(1, {min: 0, max: 1})),
    put('takeup.teachers', 'ro-teachers', 'Teachers who opt in', numberInput(1, {min: 0, max: 1})),
    put('takeup.teachers_decide', 'ro-decide', 'Teachers opt in', decide, 'After: a suggested pair goes ahead '
      + 'when both opt in. Before: those who opt in are paired.'),
    put('outcome.effect_target', 'ro-effect', 'Effect on targets (SD)', numberInput(0.12),
      'On students of a target teacher who gets a partner.'));
  const values = h('input', {type: 'text', spellcheck: 'false', autocomplete: 'off', inputmode: 'decimal',
    placeholder: '0, 0.1, 0.2, 0.3'});
  const vary = h('select', {}, h('option', {value: 'effect_target'}, 'Effect on targets (SD)'),
    h('option', {value: 'schools'}, 'Number of schools'));
  vary.addEventListener('change', () => {
    values.placeholder = vary.value === 'schools' ? '10, 20, 40, 80' : '0, 0.1, 0.2, 0.3';
  });
  const simulation = h('fieldset', {},
    h('legend', {}, 'Replications'),
    h('div', {class: 'pair'},
      put('simulation.replications', 'ro-reps', 'Replications', numberInput(200, {min: 1, step: 1})),
      put('simulation.seed', 'ro-seed', 'Seed', numberInput(1, {min: 0, step: 1}))),
    h('fieldset', {class: 'inner'}, h('legend', {}, 'Power curve (optional)'),
      put('power_curve.vary', 'ro-vary', 'Vary', vary),
      put('power_curve.values', 'ro-curve', 'Values', values, 'Comma-separated: effect sizes in SD, or numbers '
        + 'of schools sampled from the population. Leave empty for no curve.'),
      put('power_curve.replications', 'ro-curve-reps', 'Replications per point',
        numberInput(100, {min: 1, step: 1}))));

  const out = h('div', {class: 'result', id: 'rollout-result', 'aria-live': 'polite'});
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Start the rollout');
  const form = h('form', {class: 'box design-form', novalidate: true, 'aria-labelledby': 'design-title'},
    h('h2', {id: 'design-title'}, 'Start a rollout'),
    h('p', {class: 'hint'}, 'Each replication draws the assignment and take-up, pairs teachers with the real engine, '
      + 'draws students\' outcomes and estimates the effect. Small designs finish in seconds.'),
    h('div', {class: 'design-grid'}, population, assignment, takeup, simulation),
    h('div', {class: 'buttons'}, submit), out);

  /** The number in a field, or the text as typed when it is not one (the API then names the problem). */
  const read = (key) => {
    const el = f[key];
    if (el.validity && el.validity.badInput) return {bad: true};
    const text = el.value.trim();
    if (text === '') return {empty: true};
    const n = Number(text);
    return {value: Number.isFinite(n) ? n : text};
  };

  function body() {
    const local = [];
    const take = (key, into, name) => {
      const got = read(key);
      if (got.bad) local.push({column: key, message: 'must be a number'});
      else if (!got.empty) into[name] = got.value;
    };
    const design = {population: {}, assignment: {method: method.value}, takeup: {}, outcome: {}, simulation: {}};
    if (synthetic.checked) {
      const syn = {};
      take('population.synthetic.schools', syn, 'schools');
      take('population.synthetic.mean_size', syn, 'mean_size');
      take('population.synthetic.seed', syn, 'seed');
      design.population.synthetic = syn;
    } else {
      design.population.dataset_id = dataset.value;
    }
    if (method.value === 'blocked') {
      const other = otherBlocks.value.split(',').map((x) => x.trim()).filter(Boolean);
      design.assignment.blocks = [...blockChecks.filter((c) => c.checked).map((c) => c.value), ...other];
      if (pool.checked) design.assignment.small_blocks = 'pool';
    }
    take('assignment.treated_share', design.assignment, 'treated_share');
    take('assignment.balance_threshold', design.assignment, 'balance_threshold');
    take('takeup.principals', design.takeup, 'principals');
    take('takeup.teachers', design.takeup, 'teachers');
    design.takeup.teachers_decide = decide.value;
    take('outcome.effect_target', design.outcome, 'effect_target');
    take('simulation.replications', design.simulation, 'replications');
    take('simulation.seed', design.simulation, 'seed');
    const list = values.value.trim();
    if (list) {
      design.power_curve = {vary: vary.value, values: list.split(/[,\s;]+/).filter(Boolean).map((x) => {
        const n = Number(x);
        return Number.isFinite(n) ? n : x;  // as typed: the API says which value is not a number
      })};
      take('power_curve.replications', design.power_curve, 'replications');
    }
    return {design, local};
  }

  /** Each problem under its field (aria-invalid, described by the message) and all of them in one table. */
  function showProblems(problems, title) {
    let first = null;
    for (const p of problems) {
      let key = p.column || '';
      while (key && !fields[key]) key = key.includes('.') ? key.slice(0, key.lastIndexOf('.')) : '';
      if (!key) continue;
      const box = fields[key];
      const control = f[key];
      const id = `${control.id || key.replaceAll('.', '-')}-error`;
      let msg = box.querySelector(`[id="${id}"]`);
      if (!msg) {
        msg = h('p', {class: 'field-error', id});
        box.append(msg);
      }
      msg.textContent = msg.textContent ? `${msg.textContent}; ${p.message}` : p.message;
      control.setAttribute('aria-invalid', 'true');
      const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
      if (!described.includes(id)) control.setAttribute('aria-describedby', [...described, id].join(' '));
      first = first || control;
    }
    clear(out, h('div', {class: 'error', role: 'alert'},
      h('p', {class: 'error-title'}, title),
      h('p', {}, 'Nothing was started. Change the settings marked in the form and start again.'),
      designProblems(problems)));
    if (first) first.focus();
  }

  function clearProblems() {
    for (const el of form.querySelectorAll('.field-error')) {
      const control = f[Object.keys(fields).find((k) => fields[k].contains(el))];
      if (control) {
        control.removeAttribute('aria-invalid');
        const rest = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== el.id);
        if (rest.length) control.setAttribute('aria-describedby', rest.join(' '));
        else control.removeAttribute('aria-describedby');
      }
      el.remove();
    }
    out.replaceChildren();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearProblems();
    const {design, local} = body();
    if (local.length) {
      showProblems(local, 'Some settings are not numbers');
      return;
    }
    submit.disabled = true;
    clear(out, h('p', {}, 'Checking the design…'));
    try {
      const made = await ctx.api.post('/v1/rollouts', design);
      ctx.announce('Rollout started.');
      ctx.go(route('rollouts', made.id));
    } catch (err) {
      if (err.status === 422 && err.body.problems && err.body.problems.length) {
        showProblems(err.body.problems, 'The design has problems');
      } else {
        clear(out, errorBox(err));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The API's design problems (each named section.key) as a table. */
function designProblems(problems) {
  if (!problems || !problems.length) return null;
  return h('table', {class: 'problems'},
    h('caption', {}, `${problems.length} problem${problems.length === 1 ? '' : 's'}`),
    h('thead', {}, h('tr', {}, ['setting', 'value', 'problem'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, problems.map((p) => h('tr', {},
      h('th', {scope: 'row'}, h('code', {}, p.column || p.file || '')), h('td', {}, p.value ?? ''),
      h('td', {}, p.message || '')))));
}

// The list ---------------------------------------------------------------------------------------------------------

async function list(ctx) {
  ctx.title('Rollouts');
  const [ds, rs] = await Promise.all([ctx.api.get('/v1/datasets'), ctx.api.get('/v1/rollouts')]);
  if (!ctx.alive()) return;
  const datasets = new Map(ds.datasets.map((d) => [d.id, d]));
  const table = sortableTable([
    {key: 'created_at', label: 'Started', header: true,
      cell: (r) => h('a', {href: route('rollouts', r.id)}, when(r.created_at))},
    {key: 'population', label: 'Population', value: (r) => populationText(r.design, datasets)},
    {key: 'design', label: 'Design', value: (r) => designText(r.design)},
    {key: 'status', label: 'Status', cell: statusCell},
  ], {caption: ctx.me.role === 'state' ? 'Every rollout, newest first' : 'Your rollouts, newest first',
    initial: 'created_at', initialDir: -1, empty: 'No rollouts yet: start one above.'});
  table.element.classList.add('rollout-list');
  table.update(rs.rollouts);
  clear(ctx.main, h('h1', {}, 'Rollouts'),
    h('p', {class: 'muted'}, 'Simulate a trial of the pairing program before running it: how often each '
      + 'estimator finds the effect (power), how far off it is, and how balanced the arms are.'),
    designForm(ctx, ds.datasets),
    h('section', {'aria-labelledby': 'rollouts-title'}, h('h2', {id: 'rollouts-title'}, 'Rollouts'),
      h('div', {class: 'table-wrap'}, table.element)));

  // Keep the statuses current while some are queued or running (without moving anyone's focus).
  let rows = rs.rollouts;
  (async () => {
    while (ctx.alive() && rows.some((r) => r.status === 'queued' || r.status === 'running')) {
      await new Promise((resolve) => setTimeout(resolve, LIST_POLL_MS));
      if (!ctx.alive()) return;
      rows = (await ctx.api.get('/v1/rollouts')).rollouts;
      if (ctx.alive()) table.update(rows);
    }
  })().catch(() => {});  // a missed refresh is harmless: the next visit lists them again
}

// A rollout ---------------------------------------------------------------------------------------------------------

function overview(run) {
  const s = run.summary;
  const pop = s.population || {};
  const first = s.first_draw || {};
  const items = [
    ['Schools', num(pop.schools)], ['Teachers', num(pop.teachers)], ['Target teachers', num(pop.target_teachers)],
    ['Treated in the first draw', `${num(first.treated_units)} of ${num(first.units)}`],
    ['Replications', num(run.design.simulation.replications)],
    ['Time', `${num(s.elapsed_seconds, 1)} s`],
  ];
  return h('dl', {class: 'summary'}, items.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function characteristicsTable(run) {
  const est = run.summary.estimators || {};
  const cols = [['estimand', 'Estimand'], ['truth_mean', 'True value'], ['mean_estimate', 'Mean estimate'],
    ['bias', 'Bias'], ['rmse', 'RMSE'], ['power', 'Power'], ['coverage', 'Coverage'], ['mdes', 'MDES'],
    ['targets_paired_share', 'Targets paired']];
  return h('table', {class: 'data characteristics', 'aria-describedby': 'est-note'},
    h('caption', {}, `Operating characteristics over ${num(run.design.simulation.replications)} replications`),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Estimator'),
      cols.map(([key, label]) => h('th', {scope: 'col', class: key === 'estimand' ? null : 'num'}, label)))),
    h('tbody', {}, Object.entries(est).map(([name, e]) => h('tr', {dataset: {estimator: name}},
      h('th', {scope: 'row'}, estimatorLabel(name)),
      cols.map(([key]) => (key === 'estimand'
        ? h('td', {dataset: {key}}, String(e.estimand || '').toUpperCase())
        : h('td', {class: 'num', dataset: {key}}, dec(e[key]))))))));
}

function balanceTable(rows) {
  return h('table', {class: 'data balance'},
    h('caption', {}, 'The first draw: standardized mean differences (treated minus control) against the threshold.'),
    h('thead', {}, h('tr', {}, ['Covariate', 'Mean treated', 'Mean control', 'SMD', 'Threshold', 'Balanced']
      .map((c, i) => h('th', {scope: 'col', class: i && i < 5 ? 'num' : null}, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {class: r.within_threshold ? null : 'outside'},
      h('th', {scope: 'row'}, words(r.covariate)),
      h('td', {class: 'num'}, dec(r.mean_treated)), h('td', {class: 'num'}, dec(r.mean_control)),
      h('td', {class: 'num'}, dec(r.smd)), h('td', {class: 'num'}, `±${dec(r.threshold)}`),
      h('td', {class: r.within_threshold ? 'within' : 'not-within'},
        r.within_threshold ? '✓ within' : '✗ outside')))));
}

function curveTable(rows, vary, estimators) {
  return h('table', {class: 'data curve-rows'},
    h('caption', {}, 'The power curve\'s rows'),
    h('thead', {}, h('tr', {}, [VARY[vary] || words(vary), 'Estimator', 'Power', 'MC SE', 'Mean estimate',
      'Coverage', 'Replications'].map((c, i) => h('th', {scope: 'col', class: i === 1 ? null : 'num'}, c)))),
    h('tbody', {}, estimators.flatMap((e) => rows.filter((r) => r.estimator === e.name).map((r) => h('tr', {},
      h('td', {class: 'num'}, num(r[vary], 3)), h('th', {scope: 'row'}, e.label),
      h('td', {class: 'num'}, dec(r.power)), h('td', {class: 'num'}, dec(r.power_mc_se)),
      h('td', {class: 'num'}, dec(r.mean_estimate)), h('td', {class: 'num'}, dec(r.coverage)),
      h('td', {class: 'num'}, num(r.replications)))))));
}

/** The simulator's PNG, fetched with the key and shown through an object URL (released when the page changes). */
async function serverPng(ctx, base, box) {
  try {
    const blob = await ctx.api.blob(`${base}/files/power_curve.png`);
    if (!ctx.alive()) return;
    const url = URL.createObjectURL(blob);
    ctx.signal.addEventListener('abort', () => URL.revokeObjectURL(url), {once: true});
    clear(box, h('img', {class: 'server-png', src: url, alt: 'The same power curve as matcher simulate draws it, '
      + 'with Monte Carlo error bars and where each estimator reaches the target power.'}));
  } catch (err) {
    if (ctx.alive()) clear(box, errorBox(err, 'The PNG could not be loaded'));
  }
}

function curveSection(ctx, run, base) {
  const rows = run.power_curve;
  const spec = run.design.power_curve || {};
  const vary = spec.vary || 'effect_target';
  const meta = run.summary.power_curve || {};
  const names = Object.keys(run.summary.estimators || {});
  const inRows = new Set(rows.map((r) => r.estimator));
  const estimators = [...names.filter((n) => inRows.has(n)), ...[...inRows].filter((n) => !names.includes(n))]
    .map((name) => ({name, label: estimatorLabel(name)}));
  const reachKey = Object.keys(meta).find((k) => k.endsWith('_reaching_power_target'));
  const reaching = reachKey ? meta[reachKey] : {};
  const target = meta.power_target ?? (run.design.analysis || {}).power;
  const chart = powerCurve({rows, vary, xLabel: VARY[vary] || words(vary), estimators, target, reaching});
  const reach = h('ul', {class: 'reach'}, estimators.map((e) => {
    const v = reaching[e.name];
    return h('li', {}, h('strong', {}, e.label), v === null || v === undefined
      ? `: does not reach ${pct(target)} power within the values tried`
      : `: reaches ${pct(target)} power at ${vary === 'schools' ? `${num(v)} schools`
        : `an effect of ${num(v, 3)} SD`}`);
  }));
  const png = h('div', {class: 'png-box'}, h('p', {class: 'loading'}, 'Loading the PNG…'));
  const section = h('section', {'aria-labelledby': 'curve-title'},
    h('h2', {id: 'curve-title'}, 'Power curve'),
    reach,
    h('div', {class: 'curve-grid'},
      h('figure', {class: 'curve-box'}, chart.figure, h('figcaption', {}, chart.legend)),
      h('figure', {class: 'curve-box'}, png, h('figcaption', {class: 'muted'}, 'As matcher simulate draws it '
        + '(power_curve.png).'))),
    h('details', {}, h('summary', {}, 'The curve as a table'),
      h('div', {class: 'table-wrap'}, curveTable(rows, vary, estimators))));
  serverPng(ctx, base, png);
  return section;
}

function downloads(ctx, run, base) {
  const files = run.files.filter((x) => !x.name.endsWith('.png'));
  return h('section', {'aria-labelledby': 'files-title'},
    h('h2', {id: 'files-title'}, 'Files'),
    h('p', {class: 'hint'}, 'Byte for byte what matcher simulate writes for this design.'),
    h('div', {class: 'buttons downloads'}, files.map((x) => actionButton(`Download ${x.name}`,
      () => download(ctx.api, `${base}/files/${encodeURIComponent(x.name)}`, `rollout-${run.id}-${x.name}`)))));
}

function results(ctx, run, base) {
  const analysis = run.design.analysis || {};
  return [
    overview(run),
    h('section', {'aria-labelledby': 'est-title'}, h('h2', {id: 'est-title'}, 'Estimators'),
      h('p', {class: 'hint', id: 'est-note'}, `Power: share of replications with p < ${num(analysis.alpha)}. `
        + 'Coverage: share whose 95% interval holds the true value. MDES: the smallest effect detected with '
        + `${pct(analysis.power)} power. Targets paired: share of the treated arm's target teachers who got a `
        + 'partner.'),
      h('div', {class: 'table-wrap'}, characteristicsTable(run))),
    run.power_curve && run.power_curve.length ? curveSection(ctx, run, base) : null,
    h('section', {'aria-labelledby': 'balance-title'}, h('h2', {id: 'balance-title'}, 'Balance'),
      h('div', {class: 'table-wrap'}, balanceTable(run.balance || []))),
    downloads(ctx, run, base),
  ];
}

async function detail(ctx, id) {
  const base = `/v1/rollouts/${encodeURIComponent(id)}`;
  const [first, ds] = await Promise.all([ctx.api.get(base), ctx.api.get('/v1/datasets')]);
  if (!ctx.alive()) return;
  const datasets = new Map(ds.datasets.map((d) => [d.id, d]));
  ctx.title(`Rollout of ${when(first.created_at)}`);
  const progress = h('progress', {max: 100, value: 0, 'aria-labelledby': 'rollout-state'});
  const state = h('p', {id: 'rollout-state', class: 'run-state', role: 'status'});
  const box = h('div', {class: 'progress-box'}, state, progress);
  const result = h('div', {class: 'rollout-results'});
  clear(ctx.main, h('h1', {}, `Rollout of ${when(first.created_at)}`),
    h('p', {class: 'meta'}, populationText(first.design, datasets)),
    h('p', {class: 'muted'}, designText(first.design)),
    box, result,
    h('details', {class: 'design-box'}, h('summary', {}, 'Every setting of the design'),
      h('pre', {}, JSON.stringify(first.design, null, 2))));

  // Follow the rollout in the background, so the heading takes the focus at once; the state line is a live
  // region, told only when the status or the tens of percent change (not every poll).
  let said = '';
  const say = (text) => {
    if (text !== said) state.textContent = text;
    said = text;
  };
  const follow = async () => {
    let run = first;
    while (run.status === 'queued' || run.status === 'running') {
      progress.value = Math.round(run.progress * 100);
      say(run.status === 'queued' ? 'Waiting to start…'
        : `Running: ${Math.floor(run.progress * 10) * 10}% of the replications done`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (!ctx.alive()) return;
      run = await ctx.api.get(base);
      if (!ctx.alive()) return;
    }
    box.hidden = true;  // the results, or the alert saying why there are none, take its place
    if (run.status === 'failed') {
      const e = run.error || {};
      clear(result, h('div', {class: 'error', role: 'alert'}, h('p', {class: 'error-title'}, 'The rollout failed'),
        h('p', {}, e.message || 'No reason was recorded.'), designProblems(e.problems)));
      return;
    }
    clear(result, results(ctx, run, base));
    if (first.status !== 'succeeded') ctx.announce('The rollout finished: its results are below.');
  };
  follow().catch((err) => {
    if (ctx.alive()) clear(result, errorBox(err, 'Could not follow the rollout'));
  });
}

export const routes = [
  {pattern: /^\/rollouts$/, roles: ['state', 'researcher'], render: list},
  {pattern: /^\/rollouts\/([^/]+)$/, roles: ['state', 'researcher'], render: detail},
];
