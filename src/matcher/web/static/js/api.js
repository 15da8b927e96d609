// The /v1 API with the signed-in key, sent the way every API client sends it: 'Authorization: Bearer <key>'.
// Never in a URL (addresses end up in history, logs and referrers).

import {h} from './dom.js';

export class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message ? body.message : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function makeApi(key) {
  async function request(method, path, {json, form} = {}) {
    const headers = {Authorization: `Bearer ${key}`, Accept: 'application/json'};
    let body;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    } else if (form) {
      body = form;
    }
    let resp;
    try {
      resp = await fetch(path, {method, headers, body, cache: 'no-store'});
    } catch {
      throw new ApiError(0, {error: 'network', message: 'The server does not answer. Check that it is running, '
        + 'then try again.'});
    }
    if (!resp.ok) {
      let err;
      try {
        err = await resp.json();
      } catch {
        err = {error: 'http', message: `The server answered ${resp.status} ${resp.statusText}.`};
      }
      throw new ApiError(resp.status, err);
    }
    return resp;
  }
  return {
    get: async (path) => (await request('GET', path)).json(),
    post: async (path, json) => (await request('POST', path, {json})).json(),
    upload: async (path, form) => (await request('POST', path, {form})).json(),
    blob: async (path) => (await request('GET', path)).blob(),
  };
}

/** Fetch a file with the key and hand it to the browser as a download. */
export async function download(api, path, filename) {
  const blob = await api.blob(path);
  const url = URL.createObjectURL(blob);
  const a = h('a', {href: url, download: filename, hidden: true});
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/**
 * Fetch a page with the key and show it in a new tab from a blob: address (the key never goes into a URL). The tab
 * opens during the click, so no popup blocker stops it; where one did anyway, the page opens from a link instead.
 */
export async function openPage(api, path) {
  const tab = window.open('', '_blank');
  if (tab) tab.opener = null;
  let blob;
  try {
    blob = await api.blob(path);
  } catch (err) {
    if (tab) tab.close();
    throw err;
  }
  const url = URL.createObjectURL(blob);
  if (tab) {
    tab.location.href = url;
  } else {
    const a = h('a', {href: url, target: '_blank', rel: 'noopener', hidden: true});
    document.body.append(a);
    a.click();
    a.remove();
  }
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
