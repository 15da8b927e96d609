// School networks (state office): form them from a schools CSV, then see hosts and partners drawn from their
// latitude and longitude (an SVG made here: no map tiles, nothing from the internet), one colour per shared focus
// area, and the same networks as a list with every school's reason and every left-out school's.

import {clear, h, named, newId, num, route, s, when, words} from '../dom.js';
import {errorBox, field, sortableTable} from '../ui.js';

export const nav = {label: 'School networks', href: '#/networks', roles: ['state'], active: /^\/networks/};

const PALETTE = ['#1d5fa7', '#c4501c', '#2f8f5b', '#7b4bb3', '#a8760b', '#c23c72', '#16807f', '#5a6b7d',
  '#8c5a2b', '#4c8a1a'];
const W = 760;
const H = 480;
const PAD = 28;
const KM_PER_DEGREE = 111.2;

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

/** x, y in the drawing for each school with coordinates (equirectangular, scaled to fit, north up). */
function project(schools) {
  const placed = schools.filter((x) => x.latitude !== null && x.longitude !== null);
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
    s('text', {x: PAD + len + 6, y: H - 8}, `${nice} km`));
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

function drawMap(run, schools, colors, nameOf) {
  const {points, pxPerKm} = project(schools);
  const titleId = newId('map');
  const svg = s('svg', {class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId},
    s('title', {id: titleId}, `Map of ${schools.length} schools: ${run.networks.length} networks drawn as lines from `
      + `each host to its partners, coloured by focus area; ${Object.keys(run.left_out).length} schools left out `
      + 'shown grey. The list below has the same networks in words.'),
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
      : `${who}: left out (${run.left_out[school.school_id] || 'no network'})`;
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

function mapLegend(colors) {
  const chip = (color) => s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
    s('rect', {x: 1, y: 1, width: 14, height: 14, rx: 3, fill: color}));
  const shape = (el) => s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'}, el);
  return h('ul', {class: 'legend', 'aria-label': 'Map legend'},
    [...colors.entries()].map(([code, color]) => h('li', {}, chip(color), ` ${words(code)}`)),
    h('li', {}, shape(s('rect', {class: 'school host', x: 2, y: 2, width: 12, height: 12, fill: '#5a6b7d'})), ' host'),
    h('li', {}, shape(s('circle', {class: 'school partner', cx: 8, cy: 8, r: 5, fill: '#5a6b7d'})), ' partner'),
    h('li', {}, shape(s('circle', {class: 'school out', cx: 8, cy: 8, r: 5})), ' left out'));
}

async function detail(ctx, id) {
  const base = `/v1/networks/${encodeURIComponent(id)}`;
  const [run, files] = await Promise.all([ctx.api.get(base), ctx.api.get(`${base}/schools`)]);
  if (!ctx.alive()) return;
  ctx.title(`Networks: ${run.name}`);
  const schools = files.schools;
  const byId = new Map(schools.map((x) => [x.school_id, x]));
  const colors = new Map();
  for (const net of run.networks) {
    if (!colors.has(net.focus_area)) colors.set(net.focus_area, PALETTE[colors.size % PALETTE.length]);
  }
  const sm = run.summary || {};
  const proof = sm.optimal ? 'optimal (proven)' : sm.gap !== undefined && sm.gap !== null
    ? `within ${num(sm.gap * 100, 2)}% of the best possible` : '';
  const names = run.school_names || {};
  const nameOf = (sid) => names[sid] || (byId.get(sid) ? byId.get(sid).school_name || byId.get(sid).name : '');
  const name = (sid) => named(nameOf(sid), sid);
  const cards = run.networks.map((net) => {
    const titleId = newId('net');
    return h('article', {class: 'card network-card', 'aria-labelledby': titleId},
      h('header', {class: 'card-head'},
        s('svg', {class: 'swatch', viewBox: '0 0 16 16', 'aria-hidden': 'true'},
          s('rect', {x: 1, y: 1, width: 14, height: 14, rx: 3, fill: colors.get(net.focus_area)})),
        h('h3', {id: titleId}, `${net.network_id} · ${words(net.focus_area)}`)),
      h('ul', {class: 'members'}, net.schools.map((x) => h('li', {},
        h('strong', {}, name(x.school_id)), ` · ${x.role}${x.pod ? `, pod ${x.pod}` : ''}`,
        h('p', {class: 'why'}, x.explanation)))));
  });
  const left = Object.entries(run.left_out);
  clear(ctx.main,
    h('h1', {}, `School networks · ${run.name}`),
    h('p', {class: 'meta'}, `Revision ${run.revision} · ${run.networks.length} networks · `
      + `${num(sm.n_placed ?? schools.length - left.length)} schools placed · ${left.length} left out`
      + (proof ? ` · ${proof}` : '')),
    h('p', {class: 'muted'}, `Formed ${when(run.created_at)}. Each network shares one focus area: a strength of its `
      + 'host and a need of every partner.'),
    h('figure', {class: 'map-box'}, drawMap(run, schools, colors, nameOf),
      h('figcaption', {}, mapLegend(colors))),
    h('section', {'aria-labelledby': 'nets-title'}, h('h2', {id: 'nets-title'}, `Networks (${run.networks.length})`),
      h('div', {class: 'cards'}, cards)),
    h('section', {'aria-labelledby': 'left-title'}, h('h2', {id: 'left-title'}, `Left out (${left.length})`),
      left.length ? h('ul', {class: 'unmatched'}, left.map(([sid, why]) => h('li', {}, h('strong', {}, name(sid)),
        h('p', {class: 'why'}, why)))) : h('p', {}, 'Every school is in a network.')));
}

export const routes = [
  {pattern: /^\/networks$/, roles: ['state'], render: list},
  {pattern: /^\/networks\/([^/]+)$/, roles: ['state'], render: detail},
];
