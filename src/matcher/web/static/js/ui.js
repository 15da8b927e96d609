// Pieces several views share: error messages in plain words, the API's problem lists, sortable tables.

import {h} from './dom.js';

const TITLES = {
  0: 'No connection to the server',
  401: 'Sign in again',
  403: 'No access',
  404: 'Not found',
  409: 'Changed meanwhile',
  413: 'File too large',
  422: 'Please check the input',
  503: 'Not available right now',
};

/** The API's {file, row, column, value, message} problems as a table (the same wording as the CLI). */
export function problemsTable(problems) {
  if (!problems || !problems.length) return null;
  return h('table', {class: 'problems'},
    h('caption', {}, `${problems.length} problem${problems.length === 1 ? '' : 's'}`),
    h('thead', {}, h('tr', {}, ['where', 'row', 'column', 'value', 'problem'].map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', {}, problems.map((p) => h('tr', {},
      h('td', {}, p.file || ''), h('td', {}, p.row ?? ''), h('td', {}, p.column || ''),
      h('td', {}, p.value ?? ''), h('td', {}, p.message || '')))));
}

/** An inline message for a failed request: a title, the server's message, its problems. */
export function errorBox(err, title) {
  const status = err && err.status !== undefined ? err.status : -1;
  const body = (err && err.body) || {};
  return h('div', {class: 'error', role: 'alert'},
    h('p', {class: 'error-title'}, title || TITLES[status] || 'Something went wrong'),
    h('p', {}, body.message || String(err && err.message ? err.message : err)),
    problemsTable(body.problems));
}

/**
 * A table whose column headers are buttons that sort it (aria-sort says how), with rows from `rows` and cells
 * from `columns`: [{key, label, value(row), cell(row), numeric}]. Returns {element, update(rows)}.
 */
export function sortableTable(columns, {caption, initial, initialDir = 1, empty = 'Nothing to show.'}) {
  let sortKey = initial || columns[0].key;
  let dir = initialDir;
  let data = [];
  const tbody = h('tbody');
  const heads = columns.map((c) => {
    const button = h('button', {type: 'button', class: 'sort', onclick: () => {
      dir = sortKey === c.key ? -dir : (c.numeric ? -1 : 1);
      sortKey = c.key;
      draw();
    }}, c.label, h('span', {class: 'arrow', 'aria-hidden': 'true'}));
    return h('th', {scope: 'col', class: c.numeric ? 'num' : null, dataset: {key: c.key}}, button);
  });
  const table = h('table', {class: 'data'}, caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, heads)), tbody);

  function draw() {
    const col = columns.find((c) => c.key === sortKey);
    const value = col.value || ((r) => r[col.key]);
    const sorted = [...data].sort((a, b) => {
      const x = value(a);
      const y = value(b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    for (const th of heads) {
      const on = th.dataset.key === sortKey;
      if (on) th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
      th.querySelector('.arrow').textContent = on ? (dir === 1 ? ' ▲' : ' ▼') : '';
    }
    tbody.replaceChildren(...(sorted.length ? sorted.map((r) => h('tr', {},
      columns.map((c) => h(c.header ? 'th' : 'td', {class: c.numeric ? 'num' : null, scope: c.header ? 'row' : null},
        c.cell ? c.cell(r) : String(c.value ? c.value(r) : r[c.key])))))
      : [h('tr', {}, h('td', {colspan: columns.length, class: 'empty'}, empty))]));
  }

  return {element: table, update(rows) { data = rows; draw(); }};
}

/** A labelled form field: <label> then the control (ids tie them together). */
export function field(id, label, control, hint) {
  control.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', {class: 'field'}, h('label', {for: id}, label), control,
    hint ? h('p', {class: 'hint', id: hintId}, hint) : null);
}

/** A button that runs an async action, disabled meanwhile (no double submits). */
export function actionButton(label, action, attrs = {}) {
  const b = h('button', {type: 'button', ...attrs}, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      await action();
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/**
 * What a page says when someone else saved a change first (the API's 409 with its current revision): the change was
 * not applied, nothing was overwritten, and a button reloads. Returns {element, button} (the caller moves the focus).
 */
export function staleAlert({title, current, shown, advice, reloadLabel, onReload}) {
  const button = h('button', {type: 'button', class: 'primary', onclick: onReload}, reloadLabel);
  const element = h('div', {class: 'error stale', role: 'alert'},
    h('p', {class: 'error-title'}, title),
    h('p', {}, `Someone saved revision ${current ?? 'newer'} meanwhile; this page shows revision ${shown}. `
      + 'Your changes were not applied and nothing was overwritten.'),
    h('p', {}, advice), button);
  return {element, button};
}
