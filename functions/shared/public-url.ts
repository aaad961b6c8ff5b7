import type { LinkContext } from './emails.ts';
import { requireEnv } from './env.ts';
import { linkSigningKey } from './secrets.ts';

const baseUrl = requireEnv('PUBLIC_BASE_URL').replace(/\/+$/, '');

export async function linkContext(now: Date, ttlDays: number): Promise<LinkContext> {
  return { baseUrl, key: await linkSigningKey(), now, ttlDays };
}
