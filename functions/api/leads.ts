import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { config } from '#shared/config.ts';
import { executionNameFor, parseLead } from '#shared/domain/lead.ts';
import { requireEnv } from '#shared/env.ts';
import {
  type HttpEvent,
  type HttpResult,
  httpHandler,
  json,
  mediaType,
  parseFormOrJson,
} from '#shared/http.ts';
import { logger, metrics } from '#shared/observability.ts';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SFN.
const sfn = new SFNClient({});
const stateMachineArn = requireEnv('STATE_MACHINE_ARN');
const formTypes = Object.keys(config.scoring.intent.formTypes);
const allowedOrigins = new Set(config.app.forms.allowedOrigins);

function corsHeaders(event: HttpEvent): Record<string, string> {
  const origin = event.headers.origin;
  if (!origin || !allowedOrigins.has(origin)) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'content-type',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}

/** A plain HTML form post from a browser gets a redirect to the thank-you page instead of JSON. */
function fromBrowserForm(event: HttpEvent): boolean {
  return (
    mediaType(event) === 'application/x-www-form-urlencoded' &&
    (event.headers.accept ?? '').includes('text/html')
  );
}

function accepted(event: HttpEvent, leadId: string): HttpResult {
  const cors = corsHeaders(event);
  if (fromBrowserForm(event)) {
    return {
      statusCode: 303,
      headers: { location: config.app.forms.thankYouUrl, 'cache-control': 'no-store', ...cors },
      body: '',
    };
  }
  return json(202, { leadId, status: 'accepted' }, cors);
}

/**
 * POST /leads: validate, then start one workflow run named by lead id + form + day.
 * StartExecution is idempotent on the name, so a re-sent form does not start a second run.
 */
export const handler = httpHandler(async (event) => {
  if (event.requestContext.http.method === 'OPTIONS') {
    const cors = corsHeaders(event);
    return { statusCode: cors['access-control-allow-origin'] ? 204 : 403, headers: cors, body: '' };
  }
  if (event.headers.origin && !corsHeaders(event)['access-control-allow-origin'] && !fromBrowserForm(event)) {
    return json(403, { error: 'Origin not allowed' });
  }
  const body = parseFormOrJson(event, config.app.forms.maxBodyBytes);
  const { bot, lead } = parseLead(body, formTypes);
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
    // Same name with a different input: a resubmission the same day. The first run owns it.
    if (!(e instanceof ExecutionAlreadyExists)) throw e;
    logger.info('duplicate submission', { leadId: lead.id });
  }
  return accepted(event, lead.id);
});
