// Pieces of the school-network views that the state office's page and the members' page (principals, facilitators)
// share: the map (an SVG made here from latitude and longitude: no map tiles, nothing from the internet), its legend,
// a school's facts (type, grades, distance), the facilitator line and the network's printable page.

import {openPage} from './api.js';
import {h, named, newId, num, s, words} from './dom.js';

export const PALETTE = ['#1d5fa7', '#c4501c', '#2f8f5b', '#7b4bb3', '#a8760b', '#c23c72', '#16807f', '#5a6b7d',
  '#8c5a2b', '#4c8a1a'];
const W = 760;
const H = 480;
const PAD = 28;
const KM_PER_DEGREE = 111.2;

/** One colour per focus area, in the order the networks name them. */
export function focusColors(networks) {
  const colors = new Map();
  for (const net of networks) {
    if (!colors.has(net.focus_area)) colors.set(net.focus_area, PALETTE[colors.size % PALETTE.length]);
  }
  return colors;
}

/** x, y in the drawing for each school with coordinates (equirectangular, scaled to fit, north up). */
function project(schools) {
  const placed = schools.filter((x) => typeof x.latitude === 'number' && typeof x.longitude === 'number');
  if (!placed.length) return {points: new Map(), pxPerKm: 0};
  const lats = placed.map((x) => x.latitude);
  const lons = placed.map((x) => x.longitude);
  const mid = (Math.min(...lats) + Math.max(...lats)) / 2;
  const k = Math.cos((mid * Math.PI) / 180);
  const x0 = Math.min(...lons) * k;
  const y0 = Math.max(...lats);
  const spanX = Math.max(Math.max(...lons) * k - x0, 1e-6);
  const spanY = Math.max(y0 - Math.min(...lats), 1e-6);
  const scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
  const offX = (W - spanX * scale) / 2;
  const offY = (H - spanY * scale) / 2;
  const points = new Map(placed.map((x) => [x.school_id,
    [offX + (x.longitude * k - x0) * scale, offY + (y0 - x.latitude) * scale]]));
  return {points, pxPerKm: scale / KM_PER_DEGREE};
}

function scaleBar(pxPerKm) {
  if (!pxPerKm) return null;
  const target = (W / 5) / pxPerKm;
  const nice = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((v) => v >= target * 0.6) || target;
  const len = nice * pxPerKm;
  return s('g', {class: 'scale', 'aria-hidden': 'true'},
    s('path', {d: `M${PAD} ${H - 12}h${len}M${PAD} ${H - 16}v8M${PAD + len} ${H - 16}v8`}),
    s('text', {x: PAD + len + 6, y: H - 8}, `${num(nice)} km`));
}

/** A label that fits on the map: the name, shortened past 30 characters (the tooltip has it in full). */
function mapLabel(name) {
  const t = String(name).trim();
  if (t.length <= 30) return t;
  const cut = t.slice(0, 29);
  const space = cut.lastIndexOf(' ');
  return `${(space > 15 ? cut.slice(0, space) : cut).trimEnd()}…`;  // at a word where one ends late enough
}

const CHAR_PX = 6.4;  // the labels' average character width at 11 px (a little generous)

/**
 * Labels beside their marks without covering another label or mark: hosts first, then partners, then schools left
 * out, each to the right, left, above or below its mark (or a line up or down), whichever is free and inside the map.
 * A label with no free place is left off (the mark's tooltip and the list below name every school), except a host's,
 * which goes where it covers least.
 */
function placeLabels(wanted, marks) {
  const taken = marks.map(([x, y]) => [x - 8, y - 8, x + 8, y + 8]);
  const inside = (b) => b[0] >= 2 && b[2] <= W - 2 && b[1] >= 2 && b[3] <= H - 2;
  const clash = (b) => taken.reduce((sum, t) => sum + Math.max(0, Math.min(b[2], t[2]) - Math.max(b[0], t[0]))
    * Math.max(0, Math.min(b[3], t[3]) - Math.max(b[1], t[1])), 0);
  const order = [...wanted].sort((p, q) => (q.host - p.host) || (q.placed - p.placed));
  const out = [];
  for (const {at: [x, y], text, host} of order) {
    const w = text.length * CHAR_PX;
    const right = (dy) => ({x: x + 10, y: y + 4 + dy, anchor: 'start',
      box: [x + 9, y - 7 + dy, x + 10 + w, y + 6 + dy]});
    const left = (dy) => ({x: x - 10, y: y + 4 + dy, anchor: 'end', box: [x - 10 - w, y - 7 + dy, x - 9, y + 6 + dy]});
    const spots = [right(0), left(0),
      {x, y: y - 12, anchor: 'middle', box: [x - w / 2, y - 22, x + w / 2, y - 9]},
      {x, y: y + 21, anchor: 'middle', box: [x - w / 2, y + 10, x + w / 2, y + 23]},
      right(-13), right(13), left(-13), left(13)].filter((c) => inside(c.box));
    if (!spots.length) continue;
    const scored = spots.map((c) => ({c, cost: clash(c.box)}));
    const best = scored.reduce((a, b) => (b.cost < a.cost ? b : a));
    if (best.cost > 0 && !host) continue;
    taken.push(best.c.box);
    out.push(s('text', {class: 'map-label', x: best.c.x, y: best.c.y, 'text-anchor': best.c.anchor}, text));
  }
  return out;
}

/** The networks on a map: a line from each host to each partner, marks coloured by focus area, left-out grey. */
export function drawMap(run, schools, colors, nameOf) {
  const {points, pxPerKm} = project(schools);
  const titleId = newId('map');
  const nOut = Object.keys(run.left_out || {}).length;
  const svg = s('svg', {class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId},
    s('title', {id: titleId}, `Map of ${schools.length} schools: ${run.networks.length} network`
      + `${run.networks.length === 1 ? '' : 's'} drawn as lines from each host to its partners, coloured by focus `
      + `area${nOut ? `; ${nOut} school${nOut === 1 ? '' : 's'} left out shown grey` : ''}. The list below has the `
      + 'same networks in words.'),
    s('rect', {class: 'map-bg', x: 0, y: 0, width: W, height: H, rx: 8}));
  const name = (id) => named(nameOf(id), id);
  const many = schools.length > 60;
  for (const net of run.networks) {
    const color = colors.get(net.focus_area);
    const from = points.get(net.leader);
    const g = s('g', {class: 'network'}, s('title', {}, `${net.network_id}: ${words(net.focus_area)}; host `
      + `${name(net.leader)}; partners ${net.members.map(name).join(', ')}`));
    for (const m of net.members) {
      const to = points.get(m);
      if (from && to) {
        g.append(s('line', {x1: from[0], y1: from[1], x2: to[0], y2: to[1], stroke: color, class: 'link'}));
      }
    }
    svg.append(g);
  }
  const role = new Map();
  for (const net of run.networks) {
    for (const x of net.schools) role.set(x.school_id, {role: x.role, net});
  }
  const wanted = [];
  for (const school of schools) {
    const at = points.get(school.school_id);
    if (!at) continue;
    const r = role.get(school.school_id);
    const who = name(school.school_id);
    const tip = r ? `${who}: ${r.role} in ${r.net.network_id} (${words(r.net.focus_area)})`
      : `${who}: left out (${(run.left_out || {})[school.school_id] || 'no network'})`;
    const mark = !r ? s('circle', {class: 'school out', cx: at[0], cy: at[1], r: 5})
      : r.role === 'host' ? s('rect', {class: 'school host', x: at[0] - 7, y: at[1] - 7, width: 14, height: 14,
        fill: colors.get(r.net.focus_area)})
        : s('circle', {class: 'school partner', cx: at[0], cy: at[1], r: 6, fill: colors.get(r.net.focus_area)});
    svg.append(s('g', {}, s('title', {}, tip), mark));
    if (!many || (r && r.role === 'host')) {
      wanted.push({at, host: Boolean(r && r.role === 'host'), placed: Boolean(r),
        text: mapLabel(nameOf(school.school_id) || school.school_id)});
    }
  }
  svg.append(s('g', {class: 'map-labels', 'aria-hidden': 'true'}, placeLabels(wanted, [...points.values()])));
  const bar = scaleBar(pxPerKm);
  if (bar) svg.append(bar);
  return svg;
}

export function swatch(color) {
  return s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
    s('rect', {x: 1, y: 1, width: 14, height: 14, rx: 3, fill: color}));
}

export function mapLegend(colors, {leftOut = true} = {}) {
  const shape = (el) => s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'}, el);
  return h('ul', {class: 'legend', 'aria-label': 'Map legend'},
    [...colors.entries()].map(([code, color]) => h('li', {}, swatch(color), ` ${words(code)}`)),
    h('li', {}, shape(s('rect', {class: 'school host', x: 2, y: 2, width: 12, height: 12, fill: '#5a6b7d'})), ' host'),
    h('li', {}, shape(s('circle', {class: 'school partner', cx: 8, cy: 8, r: 5, fill: '#5a6b7d'})), ' partner'),
    leftOut ? h('li', {}, shape(s('circle', {class: 'school out', cx: 8, cy: 8, r: 5})), ' left out') : null);
}

const LEVELS = {early_childhood: 'early childhood', elementary: 'elementary', middle: 'middle', high: 'high',
  k8: 'K–8', k12: 'K–12'};

/** A grade as schools write it: -1 -> PK, 0 -> K. */
function grade(g) {
  const n = Number(g);
  return n === -1 ? 'PK' : n === 0 ? 'K' : String(g);
}

/** "grades K–5" / "grade 3" from grade_min and grade_max, or the API's own grades text; '' when neither is given. */
export function gradesText(x) {
  if (!x) return '';
  const lo = x.grade_min ?? null;
  const hi = x.grade_max ?? null;
  if (lo !== null && hi !== null) return lo === hi ? `grade ${grade(lo)}` : `grades ${grade(lo)}–${grade(hi)}`;
  const text = String(x.grades || '').trim();
  if (!text) return '';
  return /[-–;,]/.test(text) ? `grades ${text}` : `grade ${text}`;
}

/** What kind of school: "elementary school, charter, grades K–5" (whatever of it the API gives). */
export function schoolFacts(x) {
  if (!x) return '';
  const level = x.level ? `${LEVELS[x.level] || words(x.level)} school` : '';
  const type = String(x.school_type || '').trim();
  return [level, type ? words(type) : '', gradesText(x)].filter(Boolean).join(', ');
}

/** Kilometres between two places (haversine, as the solver measures them). */
export function kmBetween(a, b) {
  if (!a || !b || typeof a.latitude !== 'number' || typeof b.latitude !== 'number') return null;
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const q = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(q)));
}

export function kmText(km) {
  return km === null || km === undefined ? '' : `${num(km, km < 10 ? 1 : 0)} km`;
}

/** A school's distance from its network's host: the API's where it gives one, else from the coordinates. */
export function kmToHost(x, net, byId) {
  if (x.role === 'host' || x.school_id === net.leader) return null;
  if (typeof x.km_to_host === 'number') return x.km_to_host;
  return kmBetween(byId.get(x.school_id), byId.get(net.leader));
}

/** The facilitators of a revision by network id ({} when none were assigned). */
export function facilitatorsByNetwork(run) {
  return new Map((run.facilitators || []).map((f) => [f.network_id, f]));
}

export function facilitatorName(f) {
  return named(f.facilitator_name, f.facilitator_id);
}

/** "Facilitator: Ana Ruiz (F01), 3.2 km from the host", or that none is assigned yet. */
export function facilitatorLine(run, net) {
  const f = facilitatorsByNetwork(run).get(net.network_id);
  if (!f) {
    return run.facilitators ? h('p', {class: 'facilitator muted'}, 'No facilitator assigned to this network.')
      : null;
  }
  return h('p', {class: 'facilitator'}, 'Facilitator: ', h('strong', {}, facilitatorName(f)),
    typeof f.km_to_host === 'number' ? `, ${kmText(f.km_to_host)} from the host` : '');
}

/** The network's printable page, fetched with the key and opened in a new tab (the key never goes in a URL). */
export function pageLink(ctx, base, run, net) {
  const path = `${base}/pages/${encodeURIComponent(net.network_id)}.html?revision=${run.revision}`;
  const alert = h('span', {class: 'handout-alert', role: 'status'});
  const open = h('button', {type: 'button', class: 'link',
    'aria-label': `Open the network's page for ${net.network_id} (new tab, to print)`,
    onclick: () => {
      alert.textContent = '';
      openPage(ctx.api, path).catch((err) => { alert.textContent = ` Could not open it: ${err.message}`; });
    }}, 'Open the network\'s page');
  return h('p', {class: 'handout'}, open, h('span', {class: 'muted'}, ' · one page to print for the schools'), alert);
}
