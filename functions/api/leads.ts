import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { config } from '#shared/config.ts';
import { executionNameFor, parseLead } from '#shared/domain/lead.ts';
import { requireEnv } from '#shared/env.ts';
import { type HttpRequest, type HttpResult, httpHandler, json, mediaType, page } from '#shared/http.ts';
import { logger, metrics } from '#shared/observability.ts';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN. StartExecution throttling is retried
// with the SDK's backoff (4 attempts) before the form is told to try again (429); each attempt may take
// 2 s at most, so a slow Step Functions gets a 503 well inside the function's 10 s, not a timeout.
const sfn = new SFNClient({ maxAttempts: 4, requestHandler: { requestTimeout: 2000, connectionTimeout: 1000 } });
const stateMachineArn = requireEnv('STATE_MACHINE_ARN');
const formTypes = Object.keys(config.scoring.intent.formTypes);

/** Why StartExecution did not take the lead, when trying again later may work. */
function whyNotStarted(e: unknown): 'throttled' | 'unavailable' | undefined {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  if (err.name === 'ThrottlingException') return 'throttled';
  const network = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(String(err.code));
  if (err.name === 'TimeoutError' || network || (err.$metadata?.httpStatusCode ?? 0) >= 500)
    return 'unavailable';
  return undefined;
}

/** A plain HTML form post from a browser gets a redirect to the thank-you page instead of JSON. */
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
      headers: { location: config.app.forms.thankYouUrl, 'cache-control': 'no-store' },
      body: '',
    };
  }
  return json(202, { leadId, status: 'accepted' });
}

/**
 * POST /leads: validate, then start one workflow run named by lead id + form + day.
 * StartExecution is idempotent on the name, so a re-sent form does not start a second run.
 * OPTIONS /leads: the CORS preflight, answered by @middy/http-cors.
 */
export const handler = httpHandler(
  async (event) => {
    const { bot, lead } = parseLead(event.body ?? {}, formTypes);
    if (bot) {
      // Honeypot filled: answer exactly as for a real lead, store and start nothing.
      metrics.addMetric('HoneypotDrops', 'Count', 1);
      return accepted(event, lead.id);
    }
    const receivedAt = new Date();
    const name = executionNameFor(lead.id, lead.formType, receivedAt);
    try {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name,
          input: JSON.stringify({ lead, receivedAt: receivedAt.toISOString() }),
        }),
      );
      metrics.addMetric('LeadsReceived', 'Count', 1);
      logger.info('lead received', { leadId: lead.id, formType: lead.formType });
    } catch (e) {
      // Step Functions is shedding load (or unreachable) even after the SDK's retries: nothing was started,
      // so say so and let the form (or its script) try again, rather than answer 202 for a lead that would
      // be lost, or a bare 500. Throttling gets 429; a transient failure (timeout, reset, 5xx) gets 503.
      const why = whyNotStarted(e);
      if (why) {
        metrics.addMetric('LeadsShed', 'Count', 1);
        logger.warn('lead shed: Step Functions did not take it', {
          leadId: lead.id,
          error: (e as Error).name,
        });
        const status = why === 'throttled' ? 429 : 503;
        const busy = fromBrowserForm(event)
          ? page(
              status,
              'Busy',
              '<p>We could not take your request just now. Please go back and send it again.</p>',
            )
          : json(status, { error: 'Busy: please try again in a few seconds' });
        return { ...busy, headers: { ...busy.headers, 'retry-after': '2' } };
      }
      // Same name with a different input: a resubmission the same day. The first run owns it.
      if (!(e instanceof ExecutionAlreadyExists)) throw e;
      logger.info('duplicate submission', { leadId: lead.id });
    }
    return accepted(event, lead.id);
  },
  {
    cors: {
      origins: config.app.forms.allowedOrigins,
      methods: 'POST, OPTIONS',
      headers: 'content-type',
      maxAge: 600,
    },
    body: { maxBytes: config.app.forms.maxBodyBytes, strict: true },
  },
);
