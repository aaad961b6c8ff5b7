// The console's JSON API, with its errors as messages the page can show inline.
import { observeClock } from './clock.js';

export class ApiError extends Error {
  constructor(message, status, fields) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields;
  }
}

/** PII shows only after the admin asks for it; the choice lasts until the page reloads. */
export const privacy = { reveal: false };

/**
 * GET (or POST with `body`) an API path. Adds `reveal=1` when PII is revealed. Throws ApiError with the
 * server's message, or a clear one when the server cannot be reached.
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const url = new URL(`/api/${path}`, location.origin);
  if (privacy.reveal && method === 'GET') url.searchParams.set('reveal', '1');
  let res;
  try {
    res = await fetch(url, {
      method,
      signal,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('Cannot reach the console server: is it still running?', 0);
  }
  observeClock(res.headers.get('x-handoff-clock'));
  let data;
  try {
    data = await res.json();
  } catch {
    throw new ApiError(`The console server answered ${res.status} without JSON`, res.status);
  }
  if (!res.ok) throw new ApiError(data?.error ?? `HTTP ${res.status}`, res.status, data?.fields);
  return data;
}

/** `{a: 1, b: undefined}` → `a=1`: a query string without empty values. */
export function qs(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : '';
}
