// The HTTP edge as middlewares. Each handler (functions/api/*) stacks the ones it needs where it is
// defined, in this order:
//   observed()            logs and metrics (observability.ts)
//   httpHeaderNormalizer  request header names in lower case
//   httpCors              browser forms only; before the next two, so its onError (run after theirs) adds
//                         its headers to error answers too
//   securityHeaders()     on every answer, errors included (its onError runs after errorAnswers')
//   errorAnswers(…)       every error answered: expected ones with their status (ERROR_STATUS), others 500
//   originGuard(…)        browser forms only
//   requestBody(…)        routes that take a body
//   linkKeyMiddleware()   routes behind signed links (link-key.ts)
// then .handler(fn), or .handler(httpRouterHandler(routes)) for a function with several routes (admin).
// A handler that reads a body says `.handler<HttpEvent, HttpResult>(…)`: the parsers' types describe what
// they make of the event, and the handler is still called with the API Gateway event.
import type { MiddlewareObj } from '@middy/core';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConflictError, DeniedError, NotFoundError, UnavailableError, ValidationError } from './errors.ts';
import { escapeHtml } from './html.ts';
import { logger } from './observability.ts';
import { formErrorPage, page } from './pages.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** An HTTP event after the body parsers: a JSON or form body is an object, anything else stays as sent. */
export type HttpRequest = Omit<HttpEvent, 'body'> & { body?: unknown };

/** A JSON answer. The security headers are added by securityHeaders(), on every answer. */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

export function mediaType(event: Pick<HttpRequest, 'headers'>): string {
  return (event.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/** A body larger than the route takes. */
export class PayloadTooLargeError extends Error {
  override name = 'PayloadTooLargeError';
}

/** A body in a media type or charset the route does not read. */
export class UnsupportedMediaTypeError extends Error {
  override name = 'UnsupportedMediaTypeError';
}

/**
 * Each kind of expected failure and the status it is answered with: the one place an error becomes an
 * HTTP status. The first row the error is an instance of wins.
 */
const ERROR_STATUS: readonly (readonly [abstract new (...args: never[]) => Error, number])[] = [
  [ValidationError, 400],
  [DeniedError, 403],
  [NotFoundError, 404],
  [ConflictError, 409],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaTypeError, 415],
  [UnavailableError, 503],
];

/** The status an expected failure is answered with; undefined for anything else (a bug or an outage: 500). */
export function httpStatusOf(error: unknown): number | undefined {
  return ERROR_STATUS.find(([kind]) => error instanceof kind)?.[1];
}

/** @middy/http-router's answer to a path or method it has no route for. */
export function notFound(): never {
  throw new NotFoundError('Route');
}

/** A middy HttpError (createError in @middy/util): a status and whether its message may be shown. */
type MiddyHttpError = Error & { statusCode?: number; expose?: boolean; cause?: { package?: string } };

/** An expected failure as the edge answers it: its status and the error whose message is shown. */
function rejection(raised: Error): { status: number; error: Error } | undefined {
  const { statusCode, expose, cause } = raised as MiddyHttpError;
  // middy's JSON parser answers a malformed body with 415; it is a bad body (400) with a field to name.
  if (cause?.package === '@middy/http-json-body-parser' && /malformed/i.test(raised.message)) {
    return { status: 400, error: new ValidationError({ '(body)': ['is not valid JSON'] }) };
  }
  const status = httpStatusOf(raised);
  if (status !== undefined) return { status, error: raised };
  // Any other 4xx middy means to show (its parsers and router) keeps its status.
  if (statusCode && statusCode < 500 && expose) return { status: statusCode, error: raised };
  return undefined;
}

/**
 * Answers every error. Expected failures get their status and message: as JSON (`{ error, fields }`),
 * or as an HTML page for links people click (`'html'`) and for requests `formPage` picks (a browser
 * posting a form without JavaScript, which would otherwise show raw JSON). Anything else is logged and
 * answered with a bare 500 that shows nothing of it.
 */
export function errorAnswers(
  format: 'json' | 'html',
  formPage?: (event: HttpRequest) => boolean,
): MiddlewareObj<HttpRequest, HttpResult> {
  return {
    onError: async (request) => {
      const raised = request.error ?? new Error('unknown');
      const rejected = rejection(raised);
      // A page's form posted with bad fields (a rep's answer) is told which, with a way back.
      const asForm =
        (formPage?.(request.event) ?? false) ||
        (format === 'html' && rejected?.error instanceof ValidationError);
      if (rejected) {
        const { status, error } = rejected;
        logger.info('request rejected', { status, error: error.name });
        request.response = asForm
          ? formErrorPage(status, error, request.event)
          : format === 'json'
            ? json(status, {
                error: error.message,
                ...(error instanceof ValidationError ? { fields: error.fieldErrors } : {}),
              })
            : page(
                status,
                status === 404 ? 'Not found' : 'This link cannot be used',
                `<p>${escapeHtml(error.message)}</p>`,
              );
        return;
      }
      logger.error('request failed', { error: raised.name, stack: raised.stack });
      request.response =
        format === 'html' || asForm
          ? page(500, 'Something went wrong', '<p>Please try again in a minute.</p>')
          : json(500, { error: 'Internal error' });
    },
  };
}

/**
 * Security headers on every answer, by @middy/http-security-headers: nosniff, no referrer, HSTS, and on
 * HTML answers no framing and isolated browsing contexts. Its content security policy is off: a page sets
 * its own (pages.ts), the one written for its template.
 */
export function securityHeaders() {
  const options = {
    contentSecurityPolicy: false,
    // No preload: only a domain's owner can promise the preload list that.
    strictTransportSecurity: { maxAge: 180 * 24 * 60 * 60, includeSubDomains: true, preload: false },
    // Nothing to report to: these would name reporting groups that do not exist, or be empty headers.
    reportTo: false,
    reportingEndpoints: false, // in the implementation, not yet in its types: off, or an empty header
    // X-XSS-Protection is obsolete (and was itself a risk); browsers rely on the CSP.
    xssProtection: false,
    // Nothing announces a server here, and this option writes undefined header values (Node refuses those).
    poweredBy: false,
  };
  return httpSecurityHeaders(options);
}

/** A cross-origin request from an origin not on the list is refused (CORS itself only stops the browser reading). */
export function originGuard(origins: readonly string[]): MiddlewareObj<HttpRequest, HttpResult> {
  const allowed = new Set(origins);
  return {
    before: async ({ event }) => {
      const origin = event.headers.origin;
      if (origin && !allowed.has(origin)) throw new DeniedError('Origin not allowed');
    },
  };
}

/** Refuses a body larger than `maxBytes` (as sent: API Gateway base64-encodes non-text bodies). */
function bodyLimit(maxBytes: number): MiddlewareObj<HttpRequest, HttpResult> {
  return {
    before: async ({ event }) => {
      const raw = typeof event.body === 'string' ? event.body : '';
      const size = event.isBase64Encoded ? Buffer.from(raw, 'base64').length : Buffer.byteLength(raw);
      if (size > maxBytes) throw new PayloadTooLargeError(`Request body is larger than ${maxBytes} bytes`);
    },
  };
}

/** Bodies are read as UTF-8: a body that says it is in another charset is refused rather than garbled. */
function utf8Only(): MiddlewareObj<HttpRequest, HttpResult> {
  return {
    before: async ({ event }) => {
      const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i
        .exec(event.headers['content-type'] ?? '')?.[1]
        ?.toLowerCase();
      if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
        throw new UnsupportedMediaTypeError(`Send the body as UTF-8, not ${charset}`);
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
        throw new UnsupportedMediaTypeError('Send application/json or application/x-www-form-urlencoded');
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

/**
 * A route's body: up to `maxBytes`, UTF-8, JSON and URL-encoded bodies parsed by middy's parsers
 * (base64 included). `strict`: any other media type is refused; otherwise an unparsed body reaches the
 * handler as a string.
 */
export function requestBody({ maxBytes, strict }: { maxBytes: number; strict: boolean }) {
  const read = [
    bodyLimit(maxBytes),
    utf8Only(),
    httpJsonBodyParser({ disableContentTypeError: true }),
    httpUrlencodeBodyParser({ disableContentTypeError: true }),
  ];
  return strict ? [...read, parsedBodyOnly()] : read;
}
