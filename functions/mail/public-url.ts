import { config } from '../config/bundled.ts';
import { linkLifetimes } from '../config/link-lifetimes.ts';
import { requireEnv } from '../platform/env.ts';
import type { LinkContext } from './emails.ts';

const baseUrl = requireEnv('PUBLIC_BASE_URL').replace(/\/+$/, '');
const lifetimes = linkLifetimes(config);

/**
 * What the emails need to build signed links: the API's public URL, the key, the time, and each link's
 * life (as long as the wait it serves: config/link-lifetimes.ts).
 */
export function linkContext(key: string, now: Date): LinkContext {
  return { baseUrl, key, now, lifetimes };
}
