// Every datum of the console comes from /api through the guard; the session travels in the
// HttpOnly cookie, and a state-changing request carries the CSRF token (cloud/identity/browser.py).

const CSRF_COOKIE = 'vr_csrf';

/** An answer that is not a success: its status and RFC 9457 problem (detail, field errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }

  /** The messages of each field the API named: { field: [message, ...] }. */
  get fields() {
    const out = {};
    for (const error of this.problem.errors || []) {
      (out[error.field ?? ''] ||= []).push(error.reason);
    }
    return out;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return '';
}

/** Send the browser to the sign-in page, coming back here afterwards. */
export function signInAgain(ended = true) {
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/sign-in?next=${next}${ended ? '&ended=1' : ''}`);
}

function queryString(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(key, String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function send(path, { method = 'GET', body, query, signal, quiet401 = false } = {}) {
  const headers = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie(CSRF_COOKIE);
  const answer = await fetch(`/api${path}${queryString(query)}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  const type = answer.headers.get('Content-Type') || '';
  const data = answer.status === 204 || !type.includes('json') ? null : await answer.json();
  if (answer.status === 401 && !quiet401) signInAgain();
  if (!answer.ok) throw new ApiError(answer.status, data);
  return { data, headers: answer.headers };
}

/**
 * Call the API: `path` under /api, an optional JSON `body` and `query`. Resolves to the
 * answer's JSON (null for 204); rejects with ApiError. A 401 sends the browser to sign in
 * (unless `quiet401`), since the session expired, went idle or was revoked.
 */
export async function api(path, options = {}) {
  return (await send(path, options)).data;
}

/** One page of a paged list: { items, total, page, pages } (from the X-Pagination header). */
export async function apiPage(path, query = {}, options = {}) {
  const { data, headers } = await send(path, { ...options, query });
  const paging = JSON.parse(headers.get('X-Pagination') || '{}');
  return {
    items: data || [],
    total: paging.total ?? (data || []).length,
    page: paging.page ?? 1,
    pages: paging.total_pages ?? 1,
  };
}

/** Every item of a paged list, up to `limit` items. */
export async function apiAll(path, query = {}, limit = 10000) {
  const items = [];
  for (let page = 1; items.length < limit; page += 1) {
    const answer = await apiPage(path, { ...query, page, page_size: 500 });
    items.push(...answer.items);
    if (page >= answer.pages) break;
  }
  return items;
}
