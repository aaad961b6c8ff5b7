import secretsManager from '@middy/secrets-manager';
import type { Context } from 'aws-lambda';

/**
 * A secret from Secrets Manager by @middy/secrets-manager, on the context as `name`: fetched on the first
 * invocation, cached for 15 minutes (a rotated value is picked up without a deploy), refetched after an error.
 */
export function secretOnContext(name: string, secretArn: string) {
  // Typed as the options in general, not this literal: the handler's context then stays Lambda's own
  // (what callers pass), and secretFrom checks the value where it is read.
  const options: NonNullable<Parameters<typeof secretsManager>[0]> = {
    fetchData: { [name]: secretArn },
    setToContext: true,
    disablePrefetch: true,
    cacheExpiry: 15 * 60_000,
  };
  return secretsManager(options);
}

/** The secret the middleware put on the context as `name`; a missing or short one fails loudly. */
export function secretFrom(context: Context, name: string, minLength: number, what: string): string {
  const value = (context as Context & Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length < minLength)
    throw new Error(`${what} is missing or too short`);
  return value;
}
