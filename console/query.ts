// What the console's API accepts: query values checked one by one (a bad one is a 400 naming its field),
// the shapes of run names and lead ids, and how far a filtered read goes.
import { ApiError } from './api-error.ts';

export type Query = URLSearchParams;

/** An execution name as the console accepts it (Step Functions' own rule is looser). */
export const NAME = /^[A-Za-z0-9_-]{1,80}$/;
export const LEAD_ID = /^ld-[0-9a-f]{20}$/;
/** Filtered lists read at most this many executions, newest first. */
export const SCAN_LIMIT = 5_000;

/** A query value checked against a pattern or a list; 400 naming the field otherwise. */
export function param(
  q: Query,
  key: string,
  check?: RegExp | readonly string[],
  max = 200,
): string | undefined {
  const v = q.get(key);
  if (v === null || v === '') return undefined;
  const shown = JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  let problem: string | undefined;
  if (v.length > max) problem = `must be at most ${max} characters (${shown} has ${v.length})`;
  else if (Array.isArray(check) && !check.includes(v))
    problem = `must be one of ${check.join(', ')}, not ${shown}`;
  else if (check instanceof RegExp && !check.test(v))
    problem = `${shown} ${key === 'next' ? 'is not a page token this console gave' : `does not match ${check.source}`}`;
  if (problem) throw new ApiError(400, `Bad query: ${key} ${problem}`, { [key]: problem });
  return v;
}

export function intParam(q: Query, key: string, min: number, max: number, fallback: number): number {
  const v = q.get(key) || undefined;
  if (v === undefined) return fallback;
  const n = /^\d{1,6}$/.test(v) ? Number(v) : Number.NaN;
  if (!(n >= min && n <= max)) {
    const problem = `must be a whole number from ${min} to ${max}, not ${JSON.stringify(v.slice(0, 40))}`;
    throw new ApiError(400, `Bad query: ${key} ${problem}`, { [key]: problem });
  }
  return n;
}

export const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);
