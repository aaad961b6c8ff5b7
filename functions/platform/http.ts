import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DomainError, ValidationError } from './errors.ts';
import { escapeHtml } from './html.ts';
import { linkKeyMiddleware } from './link-key.ts';
import { logger, metrics } from './observability.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** An HTTP event after the body parsers: a JSON or form body is an object, anything else stays as sent. */
export type HttpRequest = Omit<HttpEvent, 'body'> & { body?: unknown };

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

export function mediaType(event: Pick<HttpEvent, 'headers'>): string {
  return (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A middy HttpError (createError in @middy/util): a status and whether its message may be shown. */
type MiddyHttpError = Error & { statusCode?: number; expose?: boolean; cause?: { package?: string } };

/** The Referer as a link back to the form, when it is an http(s) URL; escaped for an attribute. */
function backLink(event: Pick<HttpEvent, 'headers'>): string {
  const referer = event.headers.referer ?? '';
  let url: URL | undefined;
  try {
    url = new URL(referer);
  } catch {
    url = undefined;
  }
  const back = url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : undefined;
  return back
    ? `<p><a href="${escapeHtml(back)}">Back to the form</a></p>`
    : '<p>Use your browser’s Back button to return to the form.</p>';
}

/** A form post's error as a page: each field error (ValidationError), else the message, and a way back. */
export function formErrorPage(error: DomainError, event: Pick<HttpEvent, 'headers'>): HttpResult {
  const fields = error instanceof ValidationError ? Object.entries(error.fieldErrors) : [];
  const detail = fields.length
    ? `<p>Please correct the following and send the form again:</p><ul>${fields
        .flatMap(([field, messages]) =>
          messages.map((m) => `<li><b>${escapeHtml(field)}</b> ${escapeHtml(m)}</li>`),
        )
        .join('')}</ul>`
    : `<p>${escapeHtml(error.message)}</p>`;
  return page(
    error.status,
    error.status === 400 ? 'Please check the form' : 'The form could not be sent',
    `${detail}${backLink(event)}`,
  );
}

/** Maps typed domain errors (and middy's own 4xx) to their status; anything else becomes a bare 500. */
function domainErrors(
  format: 'json' | 'html',
  htmlFormErrors?: (event: HttpRequest) => boolean,
): MiddlewareObj<HttpEvent, HttpResult> {
  const respond = (error: DomainError, event: HttpEvent) =>
    htmlFormErrors?.(event as HttpRequest)
      ? formErrorPage(error, event)
      : format === 'json'
        ? json(error.status, {
            error: error.message,
            ...(error instanceof ValidationError ? { fields: error.fieldErrors } : {}),
          })
        : page(
            error.status,
            error.status === 404 ? 'Not found' : 'This link cannot be used',
            `<p>${escapeHtml(error.message)}</p>`,
          );
  return {
    onError: async (request) => {
      const raised = request.error as MiddyHttpError;
      let error: Error = raised;
      // middy's JSON parser answers a malformed body with 415; it is a bad body (400) with a field to name.
      if (raised.cause?.package === '@middy/http-json-body-parser' && /malformed/i.test(raised.message)) {
        error = new ValidationError({ '(body)': ['is not valid JSON'] });
      } else if (
        !(raised instanceof DomainError) &&
        raised.statusCode &&
        raised.statusCode < 500 &&
        raised.expose
      ) {
        error = new DomainError(raised.message, raised.statusCode);
      }
      if (error instanceof DomainError) {
        request.response = respond(error, request.event);
        logger.info('request rejected', { status: error.status, error: error.name });
        return;
      }
      logger.error('request failed', {
        error: error instanceof Error ? error.name : 'unknown',
        stack: error instanceof Error ? error.stack : undefined,
      });
      if (format === 'html' || htmlFormErrors?.(request.event as HttpRequest)) {
        request.response = page(500, 'Something went wrong', '<p>Please try again in a minute.</p>');
      }
    },
  };
}

/** Refuses a body larger than `maxBytes` (as sent: API Gateway base64-encodes non-text bodies). */
function bodyLimit(maxBytes: number): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: async ({ event }) => {
      const raw = event.body ?? '';
      const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').length : Buffer.byteLength(raw);
      if (size > maxBytes) throw new DomainError(`Request body is larger than ${maxBytes} bytes`, 413);
    },
  };
}

/** Bodies are read as UTF-8: a body that says it is in another charset gets 415 rather than garbled text. */
function utf8Only(): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: async ({ event }) => {
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i
        .exec(event.headers['content-type'] ?? '')?.[1]
        ?.toLowerCase();
      if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
        throw new DomainError(`Send the body as UTF-8, not ${charset}`, 415);
      }
    },
  };
}

/** After the parsers: a body they did not parse is a media type this route does not take. */
function parsedBodyOnly(): MiddlewareObj<HttpRequest, HttpResult> {
  return {
    before: async ({ event }) => {
      // A JSON body that parsed to a string, a number or null is a bad body (400), not a bad media type.
      const parsable = ['application/json', 'application/x-www-form-urlencoded'].includes(mediaType(event));
      if (!parsable && typeof event.body === 'string' && event.body !== '') {
        throw new DomainError('Send application/json or application/x-www-form-urlencoded', 415);
      }
      if (
        event.body !== undefined &&
        (typeof event.body !== 'object' || event.body === null || Array.isArray(event.body))
      ) {
        throw new ValidationError({ '(body)': ['must be a JSON object'] });
      }
    },
  };
}

/** A cross-origin request from an origin not on the list gets 403 (CORS itself only stops the browser reading). */
function originGuard(origins: readonly string[]): MiddlewareObj<HttpEvent, HttpResult> {
  const allowed = new Set(origins);
  return {
    before: async ({ event }) => {
      const origin = event.headers.origin;
      if (origin && !allowed.has(origin)) throw new DomainError('Origin not allowed', 403);
    },
  };
}

export interface HttpOptions {
  /** Errors as JSON (APIs) or as an HTML page (links people click). */
  format?: 'json' | 'html';
  /** Browser forms: the origins allowed (CORS, preflight included); any other Origin gets 403. */
  cors?: { origins: string[]; methods: string; headers: string; maxAge: number };
  /**
   * JSON and URL-encoded bodies parsed by middy's parsers (base64 included), up to `maxBytes` (413 above).
   * `strict`: any other media type gets 415; otherwise an unparsed body reaches the handler as a string.
   */
  body?: { maxBytes: number; strict: boolean };
  /** Puts the signed-link key on the context (see link-key.ts). */
  linkKey?: boolean;
  /**
   * Requests whose errors are answered as an HTML page (each field error and a way back) whatever `format`
   * says: a browser posting a form without JavaScript, which would otherwise show raw JSON.
   */
  htmlFormErrors?: (event: HttpRequest) => boolean;
}

/** The middy stack every HTTP handler shares. */
export function httpHandler(
  fn: (event: HttpRequest, context: Context) => Promise<HttpResult>,
  { format = 'json', cors, body, linkKey = false, htmlFormErrors }: HttpOptions = {},
) {
  const handler = middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer());
  // CORS before the error handlers, so its onError (which runs after theirs) adds headers to error responses.
  if (cors) {
    handler.use(
      httpCors({
        origins: cors.origins,
        methods: cors.methods,
        headers: cors.headers,
        maxAge: cors.maxAge,
        disableBeforePreflightResponse: false,
      }),
    );
  }
  handler
    .use(httpErrorHandler({ fallbackMessage: 'Internal error', logger: false }))
    .use(domainErrors(format, htmlFormErrors));
  if (cors) handler.use(originGuard(cors.origins));
  if (body) {
    handler
      .use(bodyLimit(body.maxBytes))
      .use(utf8Only())
      .use(httpJsonBodyParser({ disableContentTypeError: true }))
      .use(httpUrlencodeBodyParser({ disableContentTypeError: true }));
    if (body.strict) handler.use(parsedBodyOnly() as unknown as MiddlewareObj<HttpEvent, HttpResult>);
  }
  if (linkKey) handler.use(linkKeyMiddleware());
  return handler.handler(fn as unknown as (event: HttpEvent, context: Context) => Promise<HttpResult>);
}
