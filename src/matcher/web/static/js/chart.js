// A pair's scores as a heat strip: one row per teacher, one cell per rubric indicator (grouped by domain), coloured
// by score with a shape for refinement (below the weak threshold) and reinforcement (at or above the strong one)
// areas, the indicators where one teacher can support the other outlined and the suggested focus starred. Nothing
// assumes a number of indicators or a scale: both come from the rubric.

import {newId, num, s} from './dom.js';

const CELL = 16;
const STEP = 18;
const DOMAIN_GAP = 8;
const LABEL = 92;
const ROW = 20;
const LABEL_CHARS = 14;

/**
 * 'refine' | 'middle' | 'reinforce' | 'none' for a score under the run's thresholds, or, when `areas` is given
 * (the teacher's {refine, reinforce} sets of indicator names: relative or designated areas), by those areas (an
 * indicator that is both, on a flat profile, reads as neither).
 */
export function band(score, weak, strong, areas = null, name = '') {
  if (score === null || score === undefined) return 'none';
  if (areas) {
    const lo = areas.refine.has(name);
    const hi = areas.reinforce.has(name);
    return lo && !hi ? 'refine' : hi && !lo ? 'reinforce' : 'middle';
  }
  if (score < weak) return 'refine';
  if (score >= strong) return 'reinforce';
  return 'middle';
}

function shade(score, rubric, weak, strong, areas = null, name = '') {
  const b = band(score, weak, strong, areas, name);
  if (areas) return b === 'refine' ? 'refine-2' : b === 'reinforce' ? 'reinforce-2' : b;
  if (b === 'refine') return score <= (rubric.scale_min + weak) / 2 ? 'refine-2' : 'refine-1';
  if (b === 'reinforce') return score >= (strong + rubric.scale_max) / 2 ? 'reinforce-2' : 'reinforce-1';
  return b;
}

function words(b) {
  return {refine: 'refinement area', reinforce: 'reinforcement area', middle: 'neither', none: 'not observed'}[b];
}

/** A row label that fits beside the strip: "Maria Garcia", "Alexandria M.", "Bartholomew-Sm…". */
export function stripLabel(text) {
  const t = String(text).trim();
  if (t.length <= LABEL_CHARS) return t;
  const parts = t.split(/\s+/);
  if (parts.length > 1) {
    const initials = `${parts[0]} ${parts[parts.length - 1].charAt(0)}.`;
    if (initials.length <= LABEL_CHARS) return initials;
  }
  return `${t.slice(0, LABEL_CHARS - 1)}…`;
}

/** "mean of 3 observations" (aggregate: mean | median | latest), or '' for a score that rests on one. */
export function observed(count, aggregate) {
  if (!count || count < 2) return '';
  return `${aggregate || 'mean'} of ${count} observations`;
}

/**
 * scoreStrip({rubric, weak, strong, rows, aHelpsB, bHelpsA, focus, aggregate, note}) -> <svg>
 * rows: [{label, who, scores, observations}], one per teacher shown (a colleague at another school has none):
 * label is drawn beside the row (stripLabel), who names the teacher in full (titles and the summary);
 * scores: {indicator: number|null} (null or missing: not observed); observations: {indicator: count}.
 */
export function scoreStrip({rubric, weak, strong, rows, aHelpsB, bHelpsA, focus, aggregate, note}) {
  const inds = rubric.indicators;
  const helps = new Set([...aHelpsB, ...bHelpsA]);
  const domains = [];
  for (const ind of inds) {
    if (!domains.length || domains[domains.length - 1].name !== ind.domain) domains.push({name: ind.domain, items: []});
    domains[domains.length - 1].items.push(ind);
  }
  const x = new Map();
  let pos = LABEL;
  for (const d of domains) {
    d.start = pos;
    for (const ind of d.items) {
      x.set(ind.name, pos);
      pos += STEP;
    }
    d.end = pos - (STEP - CELL);
    pos += DOMAIN_GAP;
  }
  const width = pos - DOMAIN_GAP + 2;
  const height = rows.length * ROW + 24;
  const titleId = newId('strip');
  const count = (t, which) => inds.filter((i) => band(t.scores[i.name], weak, strong, t.areas, i.name) === which)
    .length;
  const summary = `Scores of ${rows.map((t) => t.who).join(' and ')} on ${inds.length} indicators. `
    + rows.map((t) => `${t.who}: ${count(t, 'refine')} refinement and ${count(t, 'reinforce')} reinforcement `
      + 'areas; ').join('')
    + `Outlined: the ${helps.size} indicator${helps.size === 1 ? '' : 's'} where one can support the other.`
    + (note ? ` ${note}` : '');

  const svg = s('svg', {class: 'strip', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': titleId,
    preserveAspectRatio: 'xMinYMin meet'}, s('title', {id: titleId}, summary));
  rows.forEach((t, row) => {
    const y = row * ROW;
    svg.append(s('g', {}, s('title', {}, t.who), s('text', {x: 0, y: y + 12, class: 'strip-label'}, t.label)));
    for (const ind of inds) {
      const score = t.scores[ind.name];
      const bnd = band(score, weak, strong, t.areas, ind.name);
      const cx = x.get(ind.name);
      const many = observed((t.observations || {})[ind.name], aggregate);
      const g = s('g', {class: `cell ${shade(score, rubric, weak, strong, t.areas, ind.name)}`},
        s('title', {}, `${ind.label}: ${t.who} ${score === null || score === undefined ? 'not observed'
          : `${num(score)} (${words(bnd)}${many ? `; ${many}` : ''})`}`),
        s('rect', {x: cx, y, width: CELL, height: CELL, rx: 2}));
      if (bnd === 'refine') {
        g.append(s('path', {class: 'mark', d: `M${cx + 4} ${y + 6}h8l-4 5z`}));
      } else if (bnd === 'reinforce') {
        g.append(s('path', {class: 'mark', d: `M${cx + 4} ${y + 11}h8l-4 -5z`}));
      }
      svg.append(g);
    }
  });
  for (const name of helps) {
    if (!x.has(name)) continue;
    svg.append(s('rect', {class: 'helps', x: x.get(name) - 1.5, y: -1.5, width: CELL + 3,
      height: (rows.length - 1) * ROW + CELL + 3, rx: 3}));
  }
  if (focus && x.has(focus)) {
    svg.append(s('text', {class: 'focus-star', x: x.get(focus) + CELL / 2, y: rows.length * ROW + 7,
      'text-anchor': 'middle'}, '★'));
  }
  for (const d of domains) {
    svg.append(s('text', {class: 'strip-domain', x: (d.start + d.end) / 2, y: height - 2, 'text-anchor': 'middle'},
      d.name));
  }
  return svg;
}

/** The legend for every strip on the page; `byArea`: relative or designated areas, not thresholds. */
export function legend(weak, strong, byArea = false) {
  const sw = (cls, mark) => s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
    s('g', {class: `cell ${cls}`}, s('rect', {x: 0, y: 0, width: 16, height: 16, rx: 2}),
      mark ? s('path', {class: 'mark', d: mark}) : null));
  const item = (svgEl, text) => {
    const li = document.createElement('li');
    li.append(svgEl, ' ', text);
    return li;
  };
  const ul = document.createElement('ul');
  ul.className = 'legend';
  ul.setAttribute('aria-label', 'How to read the score strips');
  ul.append(
    item(sw('refine-2', 'M4 6h8l-4 5z'), byArea ? 'refinement area' : `refinement area (below ${num(weak)})`),
    item(sw('middle'), byArea ? 'neither (or both)' : 'in between'),
    item(sw('reinforce-2', 'M4 11h8l-4 -5z'), byArea ? 'reinforcement area'
      : `reinforcement area (${num(strong)} or above)`),
    item(sw('none'), 'not observed'),
    item(s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
      s('rect', {class: 'helps', x: 1.5, y: 1.5, width: 13, height: 13, rx: 3})), 'one can support the other'),
    item(s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
      s('text', {class: 'focus-star', x: 8, y: 13, 'text-anchor': 'middle'}, '★')), 'suggested focus'));
  return ul;
}
