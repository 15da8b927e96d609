// The school networks of the people in them: a principal sees the network(s) their schools are in, a facilitator
// the networks they facilitate; each with its focus area, its host and partners by name (role, school type and
// grades, distance from the host, why each school is there), its facilitator and its page to print. A principal's
// school that is in no network sees why. The API sends only these networks (and no other school), so nothing else
// can show here.

import {clear, h, named, newId, route, when, words} from '../dom.js';
import {drawMap, facilitatorLine, facilitatorName, focusColors, kmText, kmToHost, mapLegend, pageLink, schoolFacts,
  swatch} from '../netparts.js';

export const nav = [
  {label: 'My network', href: '#/my-networks', roles: ['principal'], active: /^\/my-networks/},
  {label: 'My networks', href: '#/my-networks', roles: ['facilitator'], active: /^\/my-networks/},
];

const ROLE_WORDS = {host: 'Host', partner: 'Partner', peer: 'Peer'};

/**
 * A run by when it was formed: to the second where two were formed in the same minute, and numbered (oldest first)
 * where even that is the same.
 */
function runLabel(runs, r) {
  const seconds = (x) => new Date(x.created_at).toLocaleString('en-US', {dateStyle: 'medium', timeStyle: 'medium'});
  const same = runs.filter((x) => when(x.created_at) === when(r.created_at)).length > 1;
  const twins = runs.filter((x) => seconds(x) === seconds(r));
  const nth = twins.length > 1 ? ` (${twins.length - twins.indexOf(r)})` : '';  // runs come newest first
  return `Networks of ${same ? seconds(r) : when(r.created_at)}${nth}`;
}

function whoAmI(me) {
  if (me.role === 'principal') {
    const names = me.school_names || {};
    return me.schools.map((sid) => named(names[sid], sid)).join(', ');
  }
  return (me.facilitators || []).join(', ');
}

/** The facilitator a key stands for, named as the facilitators file names them: "Ana Ruiz (F01)". */
function facilitatorOf(me, run) {
  const ids = me.facilitators || [];
  return ids.map((fid) => {
    const f = (run.facilitators || []).find((x) => x.facilitator_id === fid);
    return f ? facilitatorName(f) : fid;
  }).join(', ');
}

async function landing(ctx) {
  const runs = (await ctx.api.get('/v1/networks')).network_runs;
  if (!ctx.alive()) return;
  if (!runs.length) {
    const principal = ctx.me.role === 'principal';
    ctx.title(principal ? 'My network' : 'My networks');
    ctx.main.replaceChildren(h('h1', {}, principal ? 'No school network yet' : 'No networks to facilitate yet'),
      h('p', {}, principal
        ? `The state office has not yet formed networks with ${whoAmI(ctx.me)}. Come back once they have.`
        : `No network has been assigned to ${whoAmI(ctx.me)} yet. Come back once the state office has assigned `
          + 'facilitators.'));
    return;
  }
  await show(ctx, runs[0].id, runs);  // newest first
}

function memberList(page, net) {
  const {byId, name, mine} = page;
  return h('ul', {class: 'members member-list'}, net.schools.map((x) => {
    const km = kmText(kmToHost(x, net, byId));
    const facts = [schoolFacts(byId.get(x.school_id)), km && `${km} from the host`].filter(Boolean).join(' · ');
    return h('li', {class: mine.has(x.school_id) ? 'mine' : null},
      h('strong', {}, name(x.school_id)),
      h('span', {class: 'role-tag'}, ` · ${ROLE_WORDS[x.role] || x.role}${x.pod ? `, pod ${x.pod}` : ''}`),
      mine.has(x.school_id) ? h('span', {class: 'badge'}, 'your school') : null,
      facts ? h('span', {class: 'facts'}, facts) : null,
      h('p', {class: 'why'}, x.explanation));
  }));
}

function networkSection(page, net) {
  const {run, colors, name} = page;
  const titleId = newId('net');
  const partners = net.schools.filter((x) => x.school_id !== net.leader);
  return h('section', {class: 'card network-view', 'aria-labelledby': titleId},
    h('header', {class: 'card-head'}, swatch(colors.get(net.focus_area)),
      h('h2', {id: titleId}, `Network ${net.network_id} · ${words(net.focus_area)}`)),
    h('dl', {class: 'net-facts'},
      h('div', {}, h('dt', {}, 'Shared focus'), h('dd', {}, words(net.focus_area))),
      h('div', {}, h('dt', {}, 'Host'), h('dd', {}, name(net.leader))),
      h('div', {}, h('dt', {}, partners.length === 1 ? 'Partner' : 'Partners'),
        h('dd', {}, partners.map((x) => name(x.school_id)).join('; ') || 'none'))),
    facilitatorLine(run, net) || h('p', {class: 'facilitator muted'}, 'No facilitator assigned yet.'),
    h('h3', {class: 'small'}, 'The schools and why each is here'),
    memberList(page, net),
    pageLink(page.ctx, page.base, run, net));
}

async function show(ctx, id, runs = null) {
  const base = `/v1/networks/${encodeURIComponent(id)}`;
  const [run, files, list] = await Promise.all([ctx.api.get(base), ctx.api.get(`${base}/schools`),
    runs ? Promise.resolve(null) : ctx.api.get('/v1/networks')]);
  if (!ctx.alive()) return;
  const allRuns = runs || list.network_runs;
  const principal = ctx.me.role === 'principal';
  const schools = files.schools;
  const byId = new Map(schools.map((x) => [x.school_id, x]));
  const names = run.school_names || {};
  const nameOf = (sid) => names[sid] || (byId.get(sid) ? byId.get(sid).school_name || byId.get(sid).name : '');
  const name = (sid) => named(nameOf(sid), sid);
  const mine = new Set(principal ? ctx.me.schools : []);
  const page = {ctx, base, run, byId, name, mine, colors: focusColors(run.networks)};
  const left = Object.entries(run.left_out || {}).filter(([sid]) => !principal || mine.has(sid));
  const n = run.networks.length;
  const title = principal ? `My network${n > 1 ? 's' : ''} · ${whoAmI(ctx.me)}` : 'Networks you facilitate';
  ctx.title(title);
  const formed = when(run.created_at);
  clear(ctx.main,
    h('div', {class: 'page-head'},
      h('h1', {}, title),
      h('p', {class: 'meta'}, `Formed ${formed} · revision ${run.revision}`
        + (n || !left.length ? ` · ${n} network${n === 1 ? '' : 's'}` : '')
        + (principal ? '' : ` · facilitator ${facilitatorOf(ctx.me, run)}`)),
      h('p', {class: 'muted'}, 'Each network shares one focus area: a strength of its host and an area every partner '
        + 'wants to work on. The host and partners visit each other and work on it together through the year.'),
      allRuns.length > 1 ? h('nav', {class: 'siblings runs-nav', 'aria-label': 'Network runs'},
        allRuns.map((r) => h('a', {href: route('my-networks', r.id), 'aria-current': r.id === run.id ? 'page' : null},
          runLabel(allRuns, r)))) : null),
    newestNotice(allRuns, run),
    n ? h('div', {class: 'network-views'}, run.networks.map((net) => networkSection(page, net)))
      : left.length ? null : h('p', {}, principal ? 'None of your schools is in a network in this run.'
        : 'No network in this run has you as its facilitator.'),
    left.length ? h('section', {class: 'left-mine', 'aria-labelledby': 'left-title'},
      h('h2', {id: 'left-title'}, principal ? 'Not in a network this time' : 'Left out'),
      h('ul', {class: 'unmatched'}, left.map(([sid, why]) => h('li', {}, h('strong', {}, name(sid)),
        h('p', {class: 'why'}, why))))) : null,
    n && schools.some((x) => typeof x.latitude === 'number') ? h('figure', {class: 'map-box small-map'},
      drawMap({...run, left_out: Object.fromEntries(left)}, schools, page.colors, nameOf),
      h('figcaption', {}, mapLegend(page.colors, {leftOut: left.length > 0}))) : null);
}

function newestNotice(runs, run) {
  const newest = runs[0];
  if (!newest || newest.id === run.id) return null;
  return h('p', {class: 'notice earlier'},
    `These are earlier networks; the newest were formed ${when(newest.created_at)}. `,
    h('a', {href: route('my-networks', newest.id)}, 'Open the newest networks'));
}

export const routes = [
  {pattern: /^\/my-networks$/, roles: ['principal', 'facilitator'], render: landing},
  {pattern: /^\/my-networks\/([^/]+)$/, roles: ['principal', 'facilitator'], render: (ctx, id) => show(ctx, id)},
];
