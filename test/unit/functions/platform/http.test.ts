import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import { describe, expect, it } from 'vitest';
import { createHandler as adminWith } from '#functions/api/admin.ts';
import { NoRepAvailableError } from '#functions/deal/assignment.ts';
import { LinkError } from '#functions/mail/links.ts';
import {
  ConflictError,
  DomainError,
  IllegalTransitionError,
  NotFoundError,
  ValidationError,
} from '#functions/platform/errors.ts';
import {
  errorAnswers,
  type HttpEvent,
  type HttpResult,
  httpStatusOf,
  json,
  PayloadTooLargeError,
  securityHeaders,
  UnsupportedMediaTypeError,
} from '#functions/platform/http.ts';
import { page } from '#functions/platform/pages.ts';
import { aLambdaContext, anHttpEvent } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { memoryStores } from '#test/fixtures/memory-stores.ts';

/** A handler with the edge's error and header middlewares around `fn`. */
const edge = (format: 'json' | 'html', fn: () => Promise<HttpResult>) =>
  middy<HttpEvent, HttpResult>()
    .use(httpHeaderNormalizer())
    .use(securityHeaders())
    .use(errorAnswers(format))
    .handler(fn);
const call = async (format: 'json' | 'html', fn: () => Promise<HttpResult>) =>
  edge(format, fn)(anHttpEvent('GET', '/x'), aLambdaContext());

/** Header names once each, whatever their case (a second spelling would be a second header). */
function expectOneSpellingEach(res: HttpResult) {
  const names = Object.keys(res.headers ?? {}).map((n) => n.toLowerCase());
  expect(names).toEqual([...new Set(names)]);
  for (const value of Object.values(res.headers ?? {})) expect(value).toBeDefined();
}

describe('error kinds and their HTTP status (one table at the edge)', () => {
  it.each([
    [new ValidationError({ email: ['is required'] }), 400],
    [new LinkError('expired', 'This link has expired.'), 403],
    [new NotFoundError('Lead'), 404],
    [new ConflictError('Someone else'), 409],
    [new IllegalTransitionError('won', 'accepted'), 409],
    [new PayloadTooLargeError('too big'), 413],
    [new UnsupportedMediaTypeError('not UTF-8'), 415],
    [new NoRepAvailableError('enterprise-na'), 503],
  ])('%s → %i', async (error, status) => {
    expect(httpStatusOf(error)).toBe(status);
    const res = await call('json', async () => {
      throw error;
    });
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(String(res.body)).error).toBe(error.message);
  });

  it('errors carry no status of their own', () => {
    expect(Object.keys(new NotFoundError('Lead'))).not.toContain('status');
    expect(new LinkError('tampered', 'x')).toBeInstanceOf(DomainError);
  });

  it('anything else is a bare 500 that shows nothing of it, as JSON or as a page', async () => {
    const boom = async (): Promise<HttpResult> => {
      throw new Error('arn:aws:states:secret-internal-detail');
    };
    expect(httpStatusOf(new Error('x'))).toBeUndefined();
    const asJson = await call('json', boom);
    expect(asJson.statusCode).toBe(500);
    expect(JSON.parse(String(asJson.body))).toEqual({ error: 'Internal error' });
    const asPage = await call('html', boom);
    expect(asPage.statusCode).toBe(500);
    expect(asPage.headers?.['content-type']).toMatch(/^text\/html/);
    expect(String(asPage.body)).not.toContain('secret-internal-detail');
  });

  it('an HTML error page names a link problem as such, with the message', async () => {
    const res = await call('html', async () => {
      throw new LinkError('expired', 'This link has expired. Ask sales ops to resend it.');
    });
    expect(res.statusCode).toBe(403);
    expect(String(res.body)).toContain('This link cannot be used');
    expect(String(res.body)).toContain('This link has expired.');
  });
});

describe('security headers (@middy/http-security-headers)', () => {
  it('are on every JSON answer, errors included, once each', async () => {
    for (const fn of [
      async () => json(200, { ok: true }),
      async (): Promise<HttpResult> => {
        throw new ValidationError({ email: ['is required'] });
      },
      async (): Promise<HttpResult> => {
        throw new Error('boom');
      },
    ]) {
      const res = await call('json', fn);
      expect(res.headers).toMatchObject({
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Strict-Transport-Security': expect.stringMatching(/^max-age=\d+; includeSubDomains$/),
        'cache-control': 'no-store',
      });
      expectOneSpellingEach(res);
    }
  });

  it('add framing and isolation headers to pages, and keep the page’s own content security policy', async () => {
    const res = await call('html', async () => page(200, 'Done', '<p>Done.</p>'));
    expect(res.headers).toMatchObject({
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
    });
    expect(res.headers?.['X-XSS-Protection']).toBeUndefined();
    expectOneSpellingEach(res);
  });
});

describe('admin routes (@middy/http-router)', () => {
  const db = memoryStores();
  const admin = adminWith(db);
  const get = (path: string, method = 'GET') => admin(anHttpEvent(method, path), aLambdaContext());

  it('routes by method and path, with the path’s parameters', async () => {
    const lead = aLead({ email: 'routed@acme-robotics.com' });
    await db.leads.capture(lead, 'run-1', '2026-11-25T10:00:00.000Z');
    const res = await get(`/admin/leads/${lead.id}`);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(String(res.body)).lead).toMatchObject({ id: lead.id, waiting: false });
    expect((await get(`/admin/leads/${lead.id}/`)).statusCode).toBe(200);
    expect((await get('/admin/leads/ld-nobody')).statusCode).toBe(404);
    expect((await get('/admin/deliverability')).statusCode).toBe(200);
  });

  it('answers a path or method it has no route for with a JSON 404', async () => {
    for (const res of [await get('/admin/nope'), await get('/admin/deliverability', 'DELETE')]) {
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(String(res.body))).toEqual({ error: 'Route not found' });
      expect(res.headers?.['X-Content-Type-Options']).toBe('nosniff');
    }
  });
});
