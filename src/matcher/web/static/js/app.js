// The page's shell: sign-in, the header and its navigation, and a hash router that hands each address to the view
// module that owns it. Views live in views/*.js; each exports
//   routes: [{pattern: RegExp on the path after '#', roles: [...], render(ctx, ...decodedGroups)}]
//   nav (optional): {label, href, roles, active: RegExp}, or a list of them (one label per role)
// so a new view is one more module in MODULES below.

import {ApiError, makeApi} from './api.js';
import {clear, h, named} from './dom.js';
import {errorBox, problemsTable} from './ui.js';
import * as home from './views/home.js';
import * as mynetworks from './views/mynetworks.js';
import * as networks from './views/networks.js';
import * as rollouts from './views/rollouts.js';
import * as runs from './views/runs.js';
import * as school from './views/school.js';

const MODULES = [home, school, runs, networks, mynetworks, rollouts];

// The key is kept in sessionStorage: it survives a reload of this tab, but it is gone when the tab closes and no
// other tab or later user of a shared office computer can read it (localStorage would keep it on disk for good).
const KEY = 'matcher.key';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const status = document.getElementById('status');

let me = null;
let api = null;
let controller = new AbortController();

/** Say something to screen-reader users (and show it) without moving their focus. */
let statusTimer = 0;
function announce(message) {
  status.textContent = '';
  clearTimeout(statusTimer);
  // A fresh text node after a tick, so the same message twice is still read out; the toast goes after a while
  // (it has been read out by then) so it does not cover the page.
  statusTimer = setTimeout(() => {
    status.textContent = message;
    statusTimer = setTimeout(() => { status.textContent = ''; }, 8000);
  }, 30);
}

function path() {
  return location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  me = null;
  api = null;
  controller.abort();
  renderHeader();
  signIn(message);
}

function renderHeader() {
  if (!me) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  const here = path();
  const links = MODULES.flatMap((m) => [].concat(m.nav || [])).filter((n) => n.roles.includes(me.role)).map((n) => {
    const current = n.active ? n.active.test(here) : here === n.href.slice(1);
    return h('a', {href: n.href, 'aria-current': current ? 'page' : null}, n.label);
  });
  nav.replaceChildren(...links);
  const names = me.school_names || {};
  // A principal by their schools, a facilitator by the facilitator ids the key stands for.
  const scope = me.role === 'principal' ? ` · ${me.schools.map((sid) => named(names[sid], sid)).join(', ')}`
    : me.role === 'facilitator' && (me.facilitators || []).length ? ` · ${me.facilitators.join(', ')}` : '';
  who.replaceChildren(h('span', {class: 'role'}, `Signed in: ${me.role}${scope}`),
    h('button', {type: 'button', class: 'quiet', onclick: () => signOut('You are signed out.')}, 'Sign out'));
}

function signIn(message) {
  document.title = 'Sign in · Teacher partnerships';
  const input = h('input', {type: 'password', name: 'key', autocomplete: 'off', spellcheck: 'false', required: true,
    'aria-describedby': 'key-hint'});
  input.id = 'key';
  const error = h('div', {id: 'signin-error'});
  const form = h('form', {class: 'signin', novalidate: true},
    h('div', {class: 'field'}, h('label', {for: 'key'}, 'API key'), input,
      h('p', {class: 'hint', id: 'key-hint'}, 'The key the state office gave you (it starts with mk_). It stays in '
        + 'this browser tab only and is forgotten when you close the tab.')),
    h('button', {type: 'submit', class: 'primary'}, 'Sign in'), error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const key = input.value.trim();
    if (!key) {
      clear(error, h('p', {class: 'error', role: 'alert'}, 'Enter your API key.'));
      input.focus();
      return;
    }
    const trial = makeApi(key);
    try {
      me = await trial.get('/v1/me');
    } catch (err) {
      clear(error, err.status === 401
        ? h('p', {class: 'error', role: 'alert'}, 'This key is unknown or has been revoked. Check it, or ask the '
          + 'state office for a new one.')
        : errorBox(err));
      input.focus();
      return;
    }
    sessionStorage.setItem(KEY, key);
    api = trial;
    announce(`Signed in as ${me.role}.`);
    show();
  });
  clear(main, h('h1', {tabindex: '-1'}, 'Sign in'),
    message ? h('p', {class: 'notice', role: 'status'}, message) : null, form);
  input.focus();
}

/** A whole-page message for a failed load (no access, not found, ...). */
function failed(err) {
  if (err instanceof ApiError && err.status === 401) {
    signOut('Your key is no longer accepted (revoked?). Sign in again.');
    return;
  }
  const title = err.status === 403 ? 'No access' : err.status === 404 ? 'Not found' : 'Could not load this page';
  const advice = err.status === 403
    ? `Your key does not give access to this page. ${me && me.role === 'facilitator'
      ? 'A facilitator sees only the networks they facilitate' : 'A principal sees only their own school'}; ask the `
      + 'state office if you need another one.'
    : err.status === 404 ? 'It may have been removed, or the address is wrong.' : '';
  const said = String((err.body && err.body.message) || err.message || err);
  clear(main, h('h1', {tabindex: '-1'}, title),
    h('div', {class: 'error', role: 'alert'}, h('p', {}, `${said.charAt(0).toUpperCase()}${said.slice(1)}.`
      .replace(/\.\.$/, '.')), problemsTable(err.body && err.body.problems)),
    advice ? h('p', {}, advice) : null, h('p', {}, h('a', {href: '#/'}, 'Go to your start page')));
  document.title = `${title} · Teacher partnerships`;
  announce(title);
  main.querySelector('h1').focus();
}

async function show() {
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    signIn();
    return;
  }
  if (!api) api = makeApi(key);
  if (!me) {
    try {
      me = await api.get('/v1/me');
    } catch (err) {
      if (err.status === 401) signOut('Your key is no longer accepted. Sign in again.');
      else failed(err);
      return;
    }
  }
  renderHeader();
  controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  const here = path();
  let found = null;
  for (const m of MODULES) {
    for (const r of m.routes) {
      const match = here.match(r.pattern);
      if (match) {
        found = {r, args: match.slice(1).map(decodeURIComponent)};
        break;
      }
    }
    if (found) break;
  }
  if (!found) {
    failed(new ApiError(404, {message: `There is no page at ${here}.`}));
    return;
  }
  if (!found.r.roles.includes(me.role)) {
    failed(new ApiError(403, {message: `A ${me.role} key cannot open this page.`}));
    return;
  }
  clear(main, h('p', {class: 'loading'}, 'Loading…'));
  const ctx = {
    api, me, main, signal, announce,
    go: (hash) => { location.hash = hash; },
    alive: () => !signal.aborted,
    title: (t) => { document.title = `${t} · Teacher partnerships`; },
  };
  try {
    await found.r.render(ctx, ...found.args);
  } catch (err) {
    if (!signal.aborted) failed(err);
    return;
  }
  if (!signal.aborted) {
    const h1 = main.querySelector('h1');
    if (h1) {
      h1.tabIndex = -1;
      h1.focus();
    }
  }
}

document.querySelector('.skip').addEventListener('click', (ev) => {
  ev.preventDefault();  // a '#main' hash would be taken for a page address
  const target = main.querySelector('h1') || main;
  target.tabIndex = -1;
  target.focus();
});
window.addEventListener('hashchange', show);
show();
