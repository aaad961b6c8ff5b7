import { requireEnv } from '../platform/env.ts';
import type { LinkContext } from './emails.ts';

const baseUrl = requireEnv('PUBLIC_BASE_URL').replace(/\/+$/, '');

/** What the emails need to build signed links: the API's public URL, the key, the time and the links' life. */
export function linkContext(key: string, now: Date, ttlDays: number): LinkContext {
  return { baseUrl, key, now, ttlDays };
}
