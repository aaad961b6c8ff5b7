import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';
import { requireEnv } from './env.ts';

/**
 * The HMAC key for signed links, from Secrets Manager by @middy/secrets-manager: fetched on the first
 * invocation, cached for 15 minutes (a rotated key is picked up without a deploy), refetched after an error.
 */
export function linkKeyMiddleware() {
  // Typed as the options in general, not this literal: the handler's context then stays Lambda's own
  // (what callers pass), and linkKeyOf checks the key where it is read.
  const options: NonNullable<Parameters<typeof secretsManager>[0]> = {
    fetchData: { linkKey: requireEnv('LINK_SECRET_ARN') },
    setToContext: true,
    disablePrefetch: true,
    cacheExpiry: 15 * 60_000,
  };
  return secretsManager(options);
}

/** The key the middleware put on the context; a missing or short secret fails loudly. */
export function linkKeyOf(context: Context): string {
  const key = (context as Context & { linkKey?: unknown }).linkKey;
  if (typeof key !== 'string' || key.length < 32)
    throw new Error('Link signing secret is missing or too short');
  return key;
}
