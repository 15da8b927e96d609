// Rollout simulations (researchers and the state office): start one from a small design (a synthetic district or
// a stored dataset, the assignment, take-up, the effect, replications and an optional power curve), follow its
// progress, then read each estimator's operating characteristics (every diagnosand with its Monte Carlo SE, its
// inference, warnings when its size or coverage is off, the textbook formula beside it, a glossary), what each effect
// is an effect on, the first draw's balance and the power curve (drawn from the JSON rows), and download the files
// `matcher simulate` writes (power_curve.png among them).
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

/** A value and its Monte Carlo SE: "0.412 ± 0.011" (the SE quieter; said in words to screen readers). */
function withSe(value, se) {
  return [h('span', {class: 'v'}, dec(value)), value === null || value === undefined || se === null
    || se === undefined ? null : h('span', {class: 'mc-se'}, ` ± ${dec(se)}`, h('span', {class: 'sr'},
    ' (Monte Carlo SE)'))];
}

const ESTIMANDS = {itt: 'ITT', cace: 'CACE'};
const INFERENCES = {cr2: 'CR2', cr3: 'CR3', cr1: 'CR1', pair_difference: 'Pair difference',
  randomization: 'Randomization'};

/** The estimators table's rows, in groups: [group, [[key, label, sub, value(e), se(e)]]]; se null: none. */
function diagnosandRows(run) {
  const a = run.design.analysis || {};
  const alpha = a.alpha ?? 0.05;
  const target = a.power ?? 0.8;
  const est = Object.values(run.summary.estimators || {});
  const ri = est.some((e) => e.randomization);
  const infinite = est.some((e) => e.randomization && e.randomization.infinite_intervals > 0);
  const r = (e, key) => (e.randomization || {})[key];
  const own = (key, label, sub = null) => [key, label, sub, (e) => e[key], (e) => e[`${key}_mc_se`]];
  return [
    ['The estimate (SD of the student outcome)', [
      ['truth_mean', 'True value', 'mean over replications', (e) => e.truth_mean, null],
      ['mean_estimate', 'Mean estimate', null, (e) => e.mean_estimate, null],
      own('bias', 'Bias'),
      own('rmse', 'RMSE'),
      own('sd_estimate', 'SD of the estimate', 'over replications'),
      own('mean_se', 'Mean SE', 'the standard error reported'),
    ]],
    [`Tests and intervals (level ${num(alpha)})`, [
      own('power', 'Power', 'the estimator\'s own test'),
      ri ? ['ri_power', 'Power', 'randomization inference', (e) => r(e, 'power'), (e) => r(e, 'power_mc_se')]
        : null,
      ['analytic_power', 'Power', 'textbook formula', (e) => e.analytic_power, null],
      own('coverage', 'Coverage', `of the ${pct(1 - alpha)} interval`),
      ri ? ['ri_coverage', 'Coverage', 'randomization inference', (e) => r(e, 'coverage'),
        (e) => r(e, 'coverage_mc_se')] : null,
      infinite ? ['ri_infinite', 'Unbounded intervals', 'randomization inference, replications',
        (e) => r(e, 'infinite_intervals'), null] : null,
      own('type_s_rate', 'Type S rate', 'significant, wrong sign'),
      own('exaggeration_ratio', 'Exaggeration ratio', 'significant estimate ÷ true value'),
    ]],
    [`Minimum detectable effect (${pct(target)} power)`, [
      own('mdes', 'MDES', 'on the estimand\'s scale (ITT or CACE)'),
      ['analytic_mdes', 'MDES', 'textbook formula, estimand\'s scale', (e) => e.analytic_mdes, null],
      ['mdes_effect_target', 'MDES', 'on the scale of the set effect: students of paired targets',
        (e) => e.mdes_effect_target, null],
    ]],
    ['The trial', [
      ['targets_paired_share', 'Targets paired', 'share of the treated arm\'s targets', (e) => e.targets_paired_share,
        null],
      ['df', 'Degrees of freedom', 'median', (e) => e.df, null],
      ['replications', 'Replications used', 'and those it could not use', (e) => e.replications, null],
    ]],
  ].map(([group, rows]) => [group, rows.filter(Boolean)]);
}

function cellText(key, e, value) {
  if (key === 'replications') return `${num(e.replications)}${e.failed ? ` (${num(e.failed)} failed)` : ''}`;
  if (key === 'ri_infinite') return num(value);
  if (key === 'df') return dec(value, 1);
  return null;
}

/** Diagnosands down, estimators across: each value with its Monte Carlo SE, so the table fits a tablet. */
function characteristicsTable(run) {
  const est = Object.entries(run.summary.estimators || {});
  const groups = diagnosandRows(run);
  return h('table', {class: 'data characteristics', 'aria-describedby': 'est-note'},
    h('caption', {}, `Operating characteristics over ${num(run.design.simulation.replications)} replications; `
      + '± is the Monte Carlo SE'),
    h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Diagnosand'),
      est.map(([name, e]) => h('th', {scope: 'col', class: 'num', dataset: {estimator: name}},
        estimatorLabel(name),
        h('span', {class: 'sub'}, [ESTIMANDS[e.estimand] || String(e.estimand || '').toUpperCase(),
          INFERENCES[e.inference] || (e.inference ? words(e.inference) : '')].filter(Boolean).join(' · ')),
        e.flags && e.flags.length ? h('span', {class: 'flag-badge'}, `⚠ ${e.flags.length} warning`
          + `${e.flags.length === 1 ? '' : 's'}`) : null)))),
    groups.map(([group, rows]) => h('tbody', {},
      h('tr', {class: 'group'}, h('th', {scope: 'rowgroup', colspan: est.length + 1}, group)),
      rows.map(([key, label, sub, value, se]) => h('tr', {dataset: {key}},
        h('th', {scope: 'row'}, label, sub ? h('span', {class: 'sub'}, sub) : null),
        est.map(([name, e]) => {
          const v = value(e);
          const text = cellText(key, e, v);
          return h('td', {class: 'num', dataset: {estimator: name}},
            text === null ? withSe(v, se ? se(e) : null) : h('span', {class: 'v'}, text));
        }))))));
}

// Below this many replications a flag may well be chance, and the page says so.
const FEW_REPLICATIONS = 500;

/** Each estimator's flags (its size or coverage off the nominal level), said as an alert above the table. */
function flagsBox(run) {
  const est = Object.entries(run.summary.estimators || {}).filter(([, e]) => e.flags && e.flags.length);
  if (!est.length) return null;
  const count = est.reduce((n, [, e]) => n + e.flags.length, 0);
  // The fewest replications behind a flag (the size check's, when a size flag comes from it).
  const few = Math.min(...est.map(([name, e]) => Math.min(e.replications ?? Infinity,
    ((run.summary.size || {}).estimators || {})[name]?.replications ?? Infinity)));
  return h('div', {class: 'ro-flags', role: 'alert'},
    h('p', {class: 'error-title'}, `⚠ ${count} warning${count === 1 ? '' : 's'}: check before trusting these `
      + 'p-values and intervals'),
    h('ul', {}, est.flatMap(([name, e]) => e.flags.map((f) => h('li', {class: 'flag',
      dataset: {estimator: name, kind: f.kind}}, h('strong', {}, `${estimatorLabel(name)}: `), f.message)))),
    few < FEW_REPLICATIONS ? h('p', {class: 'few-replications'}, `With ${num(few)} replications a flag can be `
      + 'chance: one Monte Carlo SE of a 5% rate is '
      + `${num(100 * Math.sqrt(0.05 * 0.95 / few), 1)} points. Run ${num(FEW_REPLICATIONS)} or more before `
      + 'trusting it.') : null);
}

/** What each estimator estimates and how its standard error and degrees of freedom are computed. */
function estimatorNotes(run) {
  const est = Object.entries(run.summary.estimators || {});
  const ri = run.summary.randomization;
  return h('dl', {class: 'est-notes'}, est.map(([name, e]) => h('div', {dataset: {estimator: name}},
    h('dt', {}, estimatorLabel(name)),
    e.estimand_label ? h('dd', {class: 'estimand'}, `Estimates the ${e.estimand_label}.`) : null,
    e.inference_label ? h('dd', {class: 'inference'}, `Inference: ${e.inference_label}.`) : null,
    e.replications !== undefined && e.replications < 2
      ? h('dd', {class: 'not-computed'}, `Computable in only ${num(e.replications)} replications.`) : null)),
  ri ? h('div', {class: 'ri-note'}, h('dt', {}, 'Randomization inference'),
    h('dd', {}, `Re-draws the assignment as the design does: ${ri}.`)) : null);
}

/** The rejection rate without any effect (summary.size), beside randomization inference's. */
function sizeSection(run) {
  const size = run.summary.size;
  if (!size || !size.estimators || !Object.keys(size.estimators).length) return null;
  const rows = Object.entries(size.estimators);
  const ri = rows.some(([, c]) => c.randomization_size !== undefined && c.randomization_size !== null);
  return h('section', {'aria-labelledby': 'size-title', class: 'size-check'},
    h('h3', {id: 'size-title'}, 'Size: how often each test rejects when there is no effect'),
    h('p', {class: 'hint'}, `From ${size.source}. It should be the test's level: ${num(size.alpha)}, or for an exact `
      + 'randomization test the largest p-value step within it (4.69% for 128 assignments at 5%); “too high” or '
      + '“too low” when it misses by more than two Monte Carlo SEs (too high: the test finds effects that are not '
      + 'there).'),
    h('div', {class: 'table-wrap'}, h('table', {class: 'data size'},
      h('caption', {}, `Rejection rate without effect at level ${num(size.alpha)}`),
      h('thead', {}, h('tr', {}, ['Estimator', 'Inference', 'Replications', 'Size ± MC SE',
        ri ? 'Randomization inference' : null, 'Verdict'].filter(Boolean)
        .map((c, i) => h('th', {scope: 'col', class: i >= 2 && i < (ri ? 5 : 4) ? 'num' : null}, c)))),
      h('tbody', {}, rows.map(([name, c]) => {
        const off = (c.flags || []).find((f) => f.kind === 'size');
        return h('tr', {dataset: {estimator: name}},
          h('th', {scope: 'row'}, estimatorLabel(name)),
          h('td', {}, INFERENCES[c.inference] || words(c.inference)),
          h('td', {class: 'num', dataset: {key: 'replications'}}, num(c.replications)),
          h('td', {class: 'num', dataset: {key: 'size'}}, withSe(c.size, c.size_mc_se)),
          ri ? h('td', {class: 'num', dataset: {key: 'randomization_size'}}, dec(c.randomization_size)) : null,
          h('td', {class: off ? 'not-within' : 'within', dataset: {key: 'verdict'}},
            off ? (off.value > off.nominal ? '✗ too high' : '✗ too low') : '✓ within'));
      })))));
}

/** The scale of every effect: the set effect on targets' students, its dilution to the ITT, the complier one. */
function scalesSection(run) {
  const sc = run.summary.scales;
  if (!sc) return null;
  const items = [
    ['effect_target', 'Set effect, on students of a paired target', `${dec(sc.effect_target)} SD`],
    ['paired_target_share', 'Students with a paired target', dec(sc.paired_target_share) === '–' ? '–'
      : `${(100 * sc.paired_target_share).toFixed(1)}%`],
    ['itt', 'Intent-to-treat effect (ITT)', sc.itt === null || sc.itt === undefined ? 'not estimated'
      : `${dec(sc.itt)} SD`],
    sc.cace === null || sc.cace === undefined ? null
      : ['cace', 'Complier effect (CACE)', `${dec(sc.cace)} SD`],
    sc.effect_partner ? ['effect_partner', 'Set effect, on students of a partner', `${dec(sc.effect_partner)} SD`]
      : null,
    sc.spillover ? ['spillover', 'Spillover, on every student of a program school', `${dec(sc.spillover)} SD`]
      : null,
  ].filter(Boolean);
  return h('section', {'aria-labelledby': 'scales-title', class: 'scales'},
    h('h2', {id: 'scales-title'}, 'What each effect is an effect on'),
    h('dl', {class: 'summary'}, items.map(([key, k, v]) => h('div', {dataset: {key}}, h('dt', {}, k),
      h('dd', {}, v)))),
    h('ul', {class: 'explanation'}, (sc.explanation || []).map((line) => h('li', {}, line))));
}

/** Bloom's / PowerUp!'s formula beside the simulation, and why the two differ. */
function analyticSection(run) {
  const an = run.summary.analytic;
  if (!an || !an.estimators) return null;
  const est = run.summary.estimators || {};
  return h('section', {'aria-labelledby': 'formula-title', class: 'formula'},
    h('h2', {id: 'formula-title'}, 'The textbook formula beside the simulation'),
    an.case ? h('p', {class: 'hint formula-case'}, 'The closest textbook case (Bloom 2006, PowerUp!):',
      h('code', {}, an.case)) : null,
    h('p', {class: 'hint'}, `It assumes equal schools of ${num(an.teachers_per_school, 1)} teachers (here the `
      + `sizes' coefficient of variation is ${dec(an.cv_teachers_per_school, 2)}). Ratio: the simulated SD of `
      + 'the estimate over the formula\'s SE.'),
    h('div', {class: 'table-wrap'}, h('table', {class: 'data analytic'},
      h('caption', {}, 'The formula\'s standard error, degrees of freedom and MDES against the simulation\'s '
        + '(its power is in the estimators\' table)'),
      h('thead', {}, h('tr', {}, ['Estimator', 'Formula SE', 'Simulated SD', 'Ratio', 'Formula df',
        'Simulated df', 'Formula MDES', 'Simulated MDES']
        .map((c, i) => h('th', {scope: 'col', class: i ? 'num' : null}, c)))),
      h('tbody', {}, Object.entries(an.estimators).map(([name, a]) => {
        const e = est[name] || {};
        return h('tr', {dataset: {estimator: name}}, h('th', {scope: 'row'}, estimatorLabel(name)),
          [[a.se], [e.sd_estimate], [a.simulated_sd_over_formula_se, 2], [a.df, 1], [e.df, 1], [a.mdes],
            [e.mdes]].map(([v, d]) => h('td', {class: 'num'}, dec(v, d))));
      })))),
    an.differences && an.differences.length ? [h('h3', {class: 'small'}, 'Why they differ'),
      h('ul', {class: 'differences'}, an.differences.map((line) => h('li', {}, line)))] : null);
}

/** One line for each word the tables use. */
function glossary(run) {
  const a = run.design.analysis || {};
  const alpha = a.alpha ?? 0.05;
  const terms = [
    ['ITT', 'Intent to treat: the effect on every student of the schools assigned to the program, taken up or not.'],
    ['CACE', 'Complier average causal effect: the effect on students of the schools that take the program up.'],
    ['Bias', 'The mean estimate minus the true value.'],
    ['RMSE', 'Root mean squared error: how far an estimate typically lands from the true value (bias and noise).'],
    ['SD of the estimate', 'How much the estimate varies from one draw of the trial to the next.'],
    ['Mean SE', 'The standard error the estimator reports, on average; honest when close to the SD of the estimate.'],
    ['Power', `The share of replications whose test finds an effect (p < ${num(alpha)}).`],
    ['Size', `The same share when there is no effect: should be ${num(alpha)}.`],
    ['Coverage', `The share of replications whose ${pct(1 - alpha)} interval holds the true value.`],
    ['Type S rate', 'Among significant estimates, the share with the wrong sign.'],
    ['Exaggeration ratio', 'Among significant estimates, their mean size over the true effect (type M error).'],
    ['MDES', `Minimum detectable effect size: the smallest true effect found with ${pct(a.power ?? 0.8)} power.`],
    ['SMD', 'Standardized mean difference: treated minus control mean of a covariate, in its standard deviations.'],
    ['Monte Carlo SE', 'The simulation\'s own uncertainty from a finite number of replications (bootstrap); '
      + 'value ± 2 MC SE is about a 95% Monte Carlo interval.'],
    ['Randomization inference', 'p-values and intervals from re-drawing the assignment as the design does.'],
  ];
  return h('aside', {class: 'glossary', 'aria-labelledby': 'glossary-title'},
    h('h3', {id: 'glossary-title'}, 'Glossary'),
    h('dl', {}, terms.map(([t, d]) => h('div', {}, h('dt', {}, t), h('dd', {}, d)))));
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

function curveSection(run) {
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
  const section = h('section', {'aria-labelledby': 'curve-title'},
    h('h2', {id: 'curve-title'}, 'Power curve'),
    reach,
    h('figure', {class: 'curve-box'}, chart.figure, h('figcaption', {}, chart.legend,
      h('p', {class: 'hint'}, 'Bars: 95% Monte Carlo intervals. The same curve as matcher simulate draws it is '
        + 'power_curve.png, under Files.'))),
    h('details', {}, h('summary', {}, 'The curve as a table'),
      h('div', {class: 'table-wrap'}, curveTable(rows, vary, estimators))));
  return section;
}

function downloads(ctx, run, base) {
  const files = run.files;
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
    scalesSection(run),
    h('section', {'aria-labelledby': 'est-title'}, h('h2', {id: 'est-title'}, 'Estimators'),
      flagsBox(run),
      h('div', {class: 'est-layout'},
        h('div', {class: 'est-main'},
          h('p', {class: 'hint', id: 'est-note'}, 'Each value ± its Monte Carlo SE (the simulation\'s own error: '
            + `it shrinks with more replications). Power: share of replications with p ≤ ${num(analysis.alpha)}; `
            + 'type S and exaggeration are undefined when the true effect is 0. The formula\'s power and MDES sit '
            + 'under the simulated ones.'),
          h('div', {class: 'table-wrap'}, characteristicsTable(run)),
          h('h3', {class: 'small'}, 'What each estimator estimates, and its inference'),
          estimatorNotes(run),
          sizeSection(run)),
        glossary(run))),
    analyticSection(run),
    run.power_curve && run.power_curve.length ? curveSection(run) : null,
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
