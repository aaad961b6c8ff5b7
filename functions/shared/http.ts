import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DomainError, ValidationError } from './domain/errors.ts';
import { escapeHtml } from './mail.ts';
import { logger } from './observability.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...SECURITY_HEADERS, ...headers },
    body: JSON.stringify(body),
  };
}

/** A small, self-contained HTML page. `bodyHtml` must already be escaped. */
export function page(statusCode: number, title: string, bodyHtml: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      ...SECURITY_HEADERS,
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Handoff</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#0b5fff;color:#fff;cursor:pointer}label{display:block;margin:.8rem 0 .3rem}input,select{font-size:1rem;padding:.4rem;width:100%}</style></head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`,
  };
}

/** Decodes the request body, enforcing a size cap; API Gateway base64-encodes non-text bodies. */
export function rawBody(event: HttpEvent, maxBytes: number): string {
  const raw = event.body ?? '';
  const buf = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (buf.length > maxBytes) throw new DomainError(`Request body is larger than ${maxBytes} bytes`, 413);
  return buf.toString('utf8');
}

export function mediaType(event: HttpEvent): string {
  return (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Parses a JSON or URL-encoded form body into a flat object; other media types get a 415. */
export function parseFormOrJson(event: HttpEvent, maxBytes: number): Record<string, unknown> {
  const text = rawBody(event, maxBytes);
  const type = mediaType(event);
  if (type === 'application/json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError({ '(body)': ['is not valid JSON'] });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ValidationError({ '(body)': ['must be a JSON object'] });
    }
    return parsed as Record<string, unknown>;
  }
  if (type === 'application/x-www-form-urlencoded') {
    return Object.fromEntries(new URLSearchParams(text));
  }
  throw new DomainError('Send application/json or application/x-www-form-urlencoded', 415);
}

/** Maps typed domain errors to their status; anything else becomes a bare 500 (details only in logs). */
function domainErrors(format: 'json' | 'html'): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: async (request) => {
      const error = request.error;
      if (error instanceof DomainError) {
        request.response =
          format === 'json'
            ? json(error.status, {
                error: error.message,
                ...(error instanceof ValidationError ? { fields: error.fieldErrors } : {}),
              })
            : page(
                error.status,
                error.status === 404 ? 'Not found' : 'This link cannot be used',
                `<p>${escapeHtml(error.message)}</p>`,
              );
        logger.info('request rejected', { status: error.status, error: error.name });
        return;
      }
      logger.error('request failed', {
        error: error instanceof Error ? error.name : 'unknown',
        stack: error instanceof Error ? error.stack : undefined,
      });
      if (format === 'html') {
        request.response = page(500, 'Something went wrong', '<p>Please try again in a minute.</p>');
      }
    },
  };
}

/** The middy stack every HTTP handler shares. */
export function httpHandler(
  fn: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  { format = 'json' as 'json' | 'html' } = {},
) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(httpHeaderNormalizer())
    .use(httpErrorHandler({ fallbackMessage: 'Internal error', logger: false }))
    .use(domainErrors(format))
    .handler(fn);
}
