import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { requireEnv } from './env.ts';
import { errorAnswers, type HttpEvent, type HttpResult, requestBody, securityHeaders } from './http.ts';
import { observed } from './observability.ts';
import { secretFrom, secretOnContext } from './secrets.ts';

/** The HMAC key for signed links (LINK_SECRET_ARN), from Secrets Manager, cached 15 minutes. */
export function linkKeyMiddleware() {
  return secretOnContext('linkKey', requireEnv('LINK_SECRET_ARN'));
}

/** The key the middleware put on the context; a missing or short secret fails loudly. */
export function linkKeyOf(context: Context): string {
  return secretFrom(context, 'linkKey', 32, 'Link signing secret');
}

/**
 * What every page behind an emailed link stands on: logs and metrics, normalized headers, security
 * headers, HTML error pages, the body (when the page takes one: at most `maxBytes`, 4 KB unless given,
 * `strict` refusing what middy cannot parse) and the link key on the context.
 */
export function linkPage(body?: { strict: boolean; maxBytes?: number }) {
  const page = middy<HttpEvent, HttpResult>()
    .use(observed())
    .use(httpHeaderNormalizer())
    .use(securityHeaders())
    .use(errorAnswers('html'));
  if (body) page.use(requestBody({ maxBytes: body.maxBytes ?? 4096, strict: body.strict }));
  return page.use(linkKeyMiddleware());
}
