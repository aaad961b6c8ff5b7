import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import {
  type CaptchaVerifier,
  captchaSecretMiddleware,
  captchaSecretOf,
  captchaVerifier,
} from '#functions/api/captcha.ts';
import { type ClientLimits, clientLimits, dynamoWindowCounters } from '#functions/api/client-limits.ts';
import { deliverToActiveRun } from '#functions/api/submissions.ts';
import { config, leadRetention } from '#functions/config/bundled.ts';
import { executionNameFor, parseLead } from '#functions/lead/lead.ts';
import { dynamoLeads } from '#functions/lead/lead-store.ts';
import { dynamoSignals } from '#functions/lead/signal-store.ts';
import { dynamoSubmissions } from '#functions/lead/submission-store.ts';
import { requireEnv } from '#functions/platform/env.ts';
import { ValidationError } from '#functions/platform/errors.ts';
import {
  errorAnswers,
  type HttpEvent,
  type HttpRequest,
  type HttpResult,
  json,
  mediaType,
  originGuard,
  requestBody,
  securityHeaders,
} from '#functions/platform/http.ts';
import { logger, metrics, observed } from '#functions/platform/observability.ts';
import { page } from '#functions/platform/pages.ts';
import { type Runs, sfnRuns } from '#functions/platform/runs.ts';
import { appTable, DYNAMODB_REFUSALS } from '#functions/platform/table.ts';
import { runInput } from '#functions/steps/contracts.ts';
import type { Stores } from '#functions/stores.ts';

// The sites whose forms may post here and the page a plain post goes to next: config/app.json's `forms`,
// set in the environment by the stack (useForms) because they name where this deployment's pages are.
const allowedOrigins = requireEnv('FORM_ALLOWED_ORIGINS').split(' ').filter(Boolean);
const thankYouUrl = requireEnv('FORM_THANK_YOU_URL');
const formTypes = Object.keys(config.scoring.intent.formTypes);

/**
 * Why the lead was not taken, when trying again later may work: Step Functions throttling StartExecution
 * ('throttled'), or a timeout, reset, 5xx or DynamoDB throttle on the way ('unavailable').
 */
function whyNotTaken(e: unknown, starting: boolean): 'throttled' | 'unavailable' | undefined {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (starting && err.name === 'ThrottlingException') return 'throttled';
  const network = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(String(err.code));
  if (err.name === 'TimeoutError' || network || (err.$metadata?.httpStatusCode ?? 0) >= 500)
    return 'unavailable';
  if (DYNAMODB_REFUSALS.has(String(err.name))) return 'unavailable';
  return undefined;
}

/** 429 or 503 with Retry-After: nothing was taken, and the form (or its script) should send it again. */
function busy(event: HttpRequest, why: 'throttled' | 'unavailable', retryAfterSeconds = 2): HttpResult {
  const status = why === 'throttled' ? 429 : 503;
  const answer = fromBrowserForm(event)
    ? page(
        status,
        'Busy',
        '<p>We could not take your request just now. Please go back and send it again.</p>',
      )
    : json(status, { error: 'Busy: please try again in a few seconds' });
  return { ...answer, headers: { ...answer.headers, 'retry-after': String(retryAfterSeconds) } };
}

/**
 * A plain HTML form post from a browser (no JavaScript) gets a redirect to the thank-you page, and its
 * errors (400 field errors, 403 origin, 413, 415) as an HTML page instead of JSON.
 */
function fromBrowserForm(event: HttpRequest): boolean {
  return (
    mediaType(event) === 'application/x-www-form-urlencoded' &&
    (event.headers.accept ?? '').includes('text/html')
  );
}

function accepted(event: HttpRequest, leadId: string): HttpResult {
  if (fromBrowserForm(event)) {
    return {
      statusCode: 303,
      headers: { location: thankYouUrl, 'cache-control': 'no-store' },
      body: '',
    };
  }
  return json(202, { leadId, status: 'accepted' });
}

/**
 * POST /leads: validate; count the form against its client's limits (source address, email domain);
 * hand the submission to the lead's active run if it has one; else start one run named by lead id + form
 * + day (StartExecution is idempotent on the name: a re-sent form starts nothing).
 * OPTIONS /leads: the CORS preflight, answered by @middy/http-cors.
 */
export const createHandler = ({
  runs,
  limits,
  captcha,
  submissions,
  ...stores
}: Pick<Stores, 'leads' | 'signals' | 'submissions'> & {
  runs: Runs;
  limits: ClientLimits;
  /** `forms.captcha` set: its verifier and the site secret's ARN. */
  captcha?: { verifier: CaptchaVerifier; secretArn: string } | undefined;
}) =>
  middy<HttpEvent, HttpResult>()
    .use(observed())
    .use(httpHeaderNormalizer())
    .use(
      httpCors({
        origins: allowedOrigins,
        methods: 'POST, OPTIONS',
        headers: 'content-type',
        // The form's script reads Retry-After on a 429 or 503 to know when to send again.
        exposeHeaders: 'retry-after',
        maxAge: 600,
        disableBeforePreflightResponse: false,
      }),
    )
    .use(securityHeaders())
    // A browser's plain form post gets its errors as a page (each field error and a way back).
    .use(errorAnswers('json', fromBrowserForm))
    .use(originGuard(allowedOrigins))
    .use(requestBody({ maxBytes: config.app.forms.maxBodyBytes, strict: true }))
    .use(captcha ? [captchaSecretMiddleware(captcha.secretArn)] : [])
    // The parsers' types describe what they make of the event; the handler takes API Gateway's event.
    .handler<HttpEvent, HttpResult>(async (event: HttpRequest, context) => {
      const { bot, lead } = parseLead(event.body ?? {}, formTypes);
      if (bot) {
        // Honeypot filled: answer exactly as for a real lead, store and start nothing.
        metrics.addMetric('HoneypotDrops', 'Count', 1);
        return accepted(event, lead.id);
      }
      if (captcha) {
        const token = (event.body as Record<string, unknown> | undefined)?.[captcha.verifier.field];
        const ip = event.requestContext.http.sourceIp;
        const answer = await captcha.verifier.verify(token, ip, captchaSecretOf(context));
        if (answer === 'unavailable') {
          metrics.addMetric('LeadsShed', 'Count', 1);
          return busy(event, 'unavailable');
        }
        if (answer === 'fail') {
          metrics.addMetric('CaptchaRefused', 'Count', 1);
          throw new ValidationError({ captcha: ['please complete the check, then send the form again'] });
        }
      }
      const receivedAt = new Date();
      let starting = false;
      try {
        const client = { ip: event.requestContext.http.sourceIp, email: lead.email };
        const limited = await limits.take(client, receivedAt);
        if (!limited.ok) {
          // Nothing stored or started: the same answer as a busy API, with when to come back.
          metrics.addMetric('LeadsLimited', 'Count', 1);
          logger.warn('lead limited: too many forms from one client', { by: limited.by });
          return busy(event, 'throttled', limited.retryAfterSeconds);
        }
        if ((await deliverToActiveRun({ ...stores, runs }, lead, receivedAt)) === 'delivered')
          return accepted(event, lead.id);
        const name = executionNameFor(lead.id, lead.formType, receivedAt);
        // The run gets the lead's id only; its submission waits in DynamoDB for Capture (the first stands).
        await submissions.put({ lead, receivedAt: receivedAt.toISOString() }, name);
        starting = true;
        if (await runs.start(name, runInput(lead.id, receivedAt))) {
          metrics.addMetric('LeadsReceived', 'Count', 1);
          logger.info('lead received', { leadId: lead.id, formType: lead.formType });
        } else {
          // Same name with a different input: a resubmission the same day. The first run owns it.
          logger.info('duplicate submission', { leadId: lead.id });
        }
      } catch (e) {
        // Step Functions is shedding load, or a dependency is briefly unavailable even after the SDK's
        // retries: nothing was started (and a claim taken on the way was given back), so say so and let
        // the form try again, rather than answer 202 for a lead that would be lost, or a bare 500.
        const why = whyNotTaken(e, starting);
        if (!why) throw e;
        metrics.addMetric('LeadsShed', 'Count', 1);
        logger.warn('lead shed: not taken, the form is asked to retry', {
          leadId: lead.id,
          error: (e as Error).name,
        });
        return busy(event, why);
      }
      return accepted(event, lead.id);
    });

// Only the stores this handler uses are built (and bundled).
const table = appTable();
export const handler = createHandler({
  leads: dynamoLeads(table, leadRetention),
  signals: dynamoSignals(table),
  submissions: dynamoSubmissions(table, leadRetention),
  limits: clientLimits(
    dynamoWindowCounters(table),
    config.app.api.perClient,
    config.scoring.negative.freeMailDomains,
  ),
  // Server-side CAPTCHA when config/app.json's forms.captcha is set (the stack then sets both variables).
  captcha: config.app.forms.captcha
    ? {
        verifier: captchaVerifier(config.app.forms.captcha, requireEnv('CAPTCHA_VERIFY_URL')),
        secretArn: requireEnv('CAPTCHA_SECRET_ARN'),
      }
    : undefined,
  // StartExecution throttling is retried with the SDK's backoff (4 attempts) before the form is told to
  // try again (429); each attempt may take 2 s at most, so a slow Step Functions gets a 503 well inside
  // the function's 10 s, not a timeout.
  runs: sfnRuns({
    stateMachineArn: requireEnv('STATE_MACHINE_ARN'),
    client: { maxAttempts: 4, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 } },
  }),
});
