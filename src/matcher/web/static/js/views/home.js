// The start page: a principal lands on their school in the newest finished run; the state office and researchers
// on the list of pairing runs; a facilitator on the networks they facilitate.

import {h, named, route, when} from '../dom.js';

export const nav = {label: 'My school', href: '#/', roles: ['principal'], active: /^\/(pairings\/.*)?$/};

/** A principal's schools by name: "Lincoln Bend Elementary School (S0001)". */
function mine(me) {
  const names = me.school_names || {};
  return me.schools.map((sid) => named(names[sid], sid)).join(', ');
}

async function land(ctx) {
  if (ctx.me.role === 'facilitator') {
    location.replace('#/my-networks');
    return;
  }
  if (ctx.me.role !== 'principal') {
    location.replace('#/runs');
    return;
  }
  const runs = (await ctx.api.get('/v1/pairings')).pairings.filter((r) => r.status === 'succeeded');
  if (!ctx.alive()) return;
  if (!runs.length) {
    ctx.title('No suggestions yet');
    ctx.main.replaceChildren(h('h1', {}, 'No suggested pairs yet'),
      h('p', {}, `The state office has not yet sent suggestions for ${mine(ctx.me)}. `
        + 'Come back once they have run the pairing.'));
    return;
  }
  const newest = runs[0];  // the API lists runs newest first
  const schools = (await ctx.api.get(`/v1/pairings/${encodeURIComponent(newest.id)}/schools`)).schools;
  if (!ctx.alive()) return;
  if (schools.length) {
    location.replace(route('pairings', newest.id, 'schools', schools[0].key));
    return;
  }
  ctx.title('No suggestions yet');
  ctx.main.replaceChildren(h('h1', {}, 'No suggested pairs yet'),
    h('p', {}, `The newest run (${when(newest.created_at)}) holds none of your schools (${mine(ctx.me)}).`));
}

export const routes = [{pattern: /^\/$/, roles: ['principal', 'state', 'researcher', 'facilitator'], render: land}];
