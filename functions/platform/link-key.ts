import type { Context } from 'aws-lambda';
import { requireEnv } from './env.ts';
import { secretFrom, secretOnContext } from './secrets.ts';

/** The HMAC key for signed links (LINK_SECRET_ARN), from Secrets Manager, cached 15 minutes. */
export function linkKeyMiddleware() {
  return secretOnContext('linkKey', requireEnv('LINK_SECRET_ARN'));
}

/** The key the middleware put on the context; a missing or short secret fails loudly. */
export function linkKeyOf(context: Context): string {
  return secretFrom(context, 'linkKey', 32, 'Link signing secret');
}
