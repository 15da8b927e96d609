// A rollout's power curve as an inline SVG drawn from the API's JSON rows: one line per estimator (told apart by
// colour, dash and marker shape, not by colour alone), power on 0..1 with its Monte Carlo error bars, the target
// power as a dashed line, axis labels, a text legend, and a title and description that say the same in words.
// The only <path> elements are the curves (one per estimator); axes, bars and markers are lines and shapes.

import {h, newId, num, s} from './dom.js';

const W = 640;
const H = 360;
const M = {left: 58, right: 18, top: 14, bottom: 50};
const PALETTE = ['#1d5fa7', '#c4501c', '#2f8f5b', '#7b4bb3', '#a8760b'];
const DASHES = [null, '7 4', '2 3', '10 3 2 3', '4 4'];
const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'circle'];
const Z = 1.96;  // the error bars: 95% Monte Carlo intervals

/** Round tick values covering [lo, hi], about `count` of them. */
function ticks(lo, hi, count = 6) {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((v) => v >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

function marker(shape, x, y, color, r = 4.5) {
  const common = {fill: color, stroke: '#fff', 'stroke-width': 1.2};
  if (shape === 'square') return s('rect', {x: x - r, y: y - r, width: 2 * r, height: 2 * r, ...common});
  if (shape === 'triangle') {
    return s('polygon', {points: `${x},${y - r - 1} ${x + r + 1},${y + r} ${x - r - 1},${y + r}`, ...common});
  }
  if (shape === 'diamond') {
    return s('polygon', {points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}`,
      ...common});
  }
  return s('circle', {cx: x, cy: y, r, ...common});
}

/** The look of estimator number i: {color, dash, shape}. */
export function look(i) {
  return {color: PALETTE[i % PALETTE.length], dash: DASHES[i % DASHES.length], shape: SHAPES[i % SHAPES.length]};
}

/** A small picture of a line's look, for legends (decorative: the text next to it says which line it is). */
export function swatch({color, dash, shape}) {
  return s('svg', {class: 'line-swatch', viewBox: '0 0 32 12', 'aria-hidden': 'true'},
    s('line', {x1: 1, y1: 6, x2: 31, y2: 6, stroke: color, 'stroke-width': 2.2, 'stroke-dasharray': dash}),
    shape ? marker(shape, 16, 6, color, 3.5) : null);
}

/**
 * powerCurve({rows, vary, xLabel, estimators: [{name, label}], target, reaching: {name: value|null}, format})
 *   -> {figure: <svg>, legend: <ul>}
 * rows: the API's power-curve rows ({[vary]: x, estimator, power, power_mc_se, ...}).
 */
export function powerCurve({rows, vary, xLabel, estimators, target, reaching = {}, format = num}) {
  const xs = [...new Set(rows.map((r) => r[vary]).filter((v) => v !== null && v !== undefined))].sort((a, b) => a - b);
  let lo = xs.length ? xs[0] : 0;
  let hi = xs.length ? xs[xs.length - 1] : 1;
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.04;
  const x = (v) => M.left + ((v - (lo - pad)) / (hi - lo + 2 * pad)) * (W - M.left - M.right);
  const y = (p) => M.top + (1 - p) * (H - M.top - M.bottom);
  const titleId = newId('curve');
  const descId = newId('curve-desc');

  const words = estimators.map((e) => {
    const pts = rows.filter((r) => r.estimator === e.name).sort((a, b) => a[vary] - b[vary]);
    const at = pts.map((r) => `${format(r.power)} at ${format(r[vary])}`).join(', ');
    const reach = reaching[e.name];
    const end = reach === null || reach === undefined
      ? `it does not reach ${format(target)} within the values tried`
      : `it reaches ${format(target)} at about ${format(reach)}`;
    return `${e.label}: power ${at}; ${end}.`;
  });
  const svg = s('svg', {class: 'power-curve', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId,
    'aria-describedby': descId},
  s('title', {id: titleId}, `Power by ${xLabel.toLowerCase()}, one line per estimator`),
  s('desc', {id: descId}, `${words.join(' ')} The dashed line is the target power, ${format(target)}; the bars are `
    + '95% Monte Carlo intervals.'));

  // Grid and axes.
  const grid = s('g', {class: 'grid', 'aria-hidden': 'true'});
  for (const p of [0, 0.2, 0.4, 0.6, 0.8, 1]) {
    grid.append(s('line', {x1: M.left, x2: W - M.right, y1: y(p), y2: y(p)}),
      s('text', {class: 'tick', x: M.left - 8, y: y(p) + 4, 'text-anchor': 'end'}, format(p)));
  }
  const xTicks = xs.length && xs.length <= 10 ? xs : ticks(lo, hi);
  for (const v of xTicks) {
    grid.append(s('line', {class: 'tick-mark', x1: x(v), x2: x(v), y1: H - M.bottom, y2: H - M.bottom + 5}),
      s('text', {class: 'tick', x: x(v), y: H - M.bottom + 19, 'text-anchor': 'middle'}, format(v)));
  }
  grid.append(s('line', {class: 'axis', x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom}),
    s('line', {class: 'axis', x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom}),
    s('text', {class: 'axis-label', x: (M.left + W - M.right) / 2, y: H - 8, 'text-anchor': 'middle'}, xLabel),
    s('text', {class: 'axis-label', x: 0, y: 0, 'text-anchor': 'middle',
      transform: `translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)`}, 'Power'));
  svg.append(grid);

  if (target !== null && target !== undefined) {
    svg.append(s('g', {class: 'target', 'aria-hidden': 'true'},
      s('line', {x1: M.left, x2: W - M.right, y1: y(target), y2: y(target)}),
      s('text', {x: W - M.right - 4, y: y(target) - 6, 'text-anchor': 'end'}, `target ${format(target)}`)));
  }

  estimators.forEach((e, i) => {
    const {color, dash, shape} = look(i);
    const pts = rows.filter((r) => r.estimator === e.name && r[vary] !== null && r[vary] !== undefined)
      .sort((a, b) => a[vary] - b[vary]);
    const g = s('g', {class: 'series', dataset: {estimator: e.name}},
      s('title', {}, `${e.label}: ${pts.map((r) => `${format(r.power)} at ${format(r[vary])}`).join(', ')}`));
    let d = '';
    let pen = 'M';
    for (const r of pts) {
      if (r.power === null || r.power === undefined) {
        pen = 'M';  // no estimate at this point: a gap in the line
        continue;
      }
      d += `${pen}${x(r[vary]).toFixed(1)} ${y(r.power).toFixed(1)}`;
      pen = 'L';
    }
    g.append(s('path', {class: 'curve', d: d || `M${M.left} ${y(0)}`, fill: 'none', stroke: color,
      'stroke-width': 2.4, 'stroke-dasharray': dash, 'stroke-linejoin': 'round'}));
    for (const r of pts) {
      if (r.power === null || r.power === undefined) continue;
      const se = r.power_mc_se || 0;
      if (se > 0) {
        g.append(s('line', {class: 'err', x1: x(r[vary]), x2: x(r[vary]), y1: y(Math.min(1, r.power + Z * se)),
          y2: y(Math.max(0, r.power - Z * se)), stroke: color}));
      }
      g.append(marker(shape, x(r[vary]), y(r.power), color));
    }
    svg.append(g);
  });

  const legend = h('ul', {class: 'legend curve-legend', 'aria-label': 'Legend of the power curve'},
    estimators.map((e, i) => h('li', {}, swatch(look(i)), ` ${e.label}`)),
    h('li', {}, swatch({color: '#52606d', dash: '5 4'}), ` target power ${format(target)}`),
    h('li', {}, s('svg', {class: 'line-swatch', viewBox: '0 0 32 12', 'aria-hidden': 'true'},
      s('line', {x1: 16, y1: 0, x2: 16, y2: 12, stroke: '#52606d', 'stroke-width': 1.4})),
    ' 95% Monte Carlo interval'));
  return {figure: svg, legend};
}
