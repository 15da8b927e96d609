// Building the page without HTML strings: every piece of data goes in as a text node or an attribute value,
// never through innerHTML, so names and reasons from the server cannot become markup.

const SVG = 'http://www.w3.org/2000/svg';

function put(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('p', {class: 'note'}, 'text', child, ...): an HTML element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  put(el, attrs);
  add(el, children);
  return el;
}

/** An SVG element (same arguments as h). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  put(el, attrs);
  add(el, children);
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

/** A number as people read it: 3, 2.5, 0.333 -> 0.33. */
export function num(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Number.isInteger(x) ? x.toLocaleString('en-US') : Number(x.toFixed(digits)).toLocaleString('en-US');
}

export function pct(x) {
  return `${Math.round(x * 100)}%`;
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString('en-US', {dateStyle: 'medium', timeStyle: 'short'});
}

/** snake_case codes as words: respectful_culture -> respectful culture. */
export function words(code) {
  return String(code || '').replaceAll('_', ' ');
}

/**
 * A person or a school as people read it: "Lincoln Bend Elementary School (S0001)", or the id alone where the
 * input gave no name (never an empty label).
 */
export function named(name, id) {
  const n = String(name || '').trim();
  return n ? `${n} (${id})` : String(id);
}

/** Names compared as the readers compare them: without regard to case and spacing. */
export function nameKey(name) {
  return String(name || '').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** A link inside the page: ids are URI-encoded path segments after '#/'. */
export function route(...parts) {
  return '#/' + parts.map((p) => encodeURIComponent(p)).join('/');
}

let uid = 0;
export function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}
