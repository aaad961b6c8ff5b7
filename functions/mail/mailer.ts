import { GetSendQuotaCommand, SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { logger } from '../platform/observability.ts';
import { buildMime, type MailMessage } from './mime.ts';
import type { SendQuota } from './send-budget.ts';

// The SDK reaches a local emulator through AWS_ENDPOINT_URL_SES.
const ses = new SESClient({});

/** Sends through SES with the stack's configuration set (bounce/complaint events, sending metrics). */
export async function sendMail(msg: MailMessage): Promise<string> {
  const out = await ses.send(
    new SendRawEmailCommand({
      RawMessage: { Data: Buffer.from(buildMime(msg)) },
      ConfigurationSetName: process.env.SES_CONFIGURATION_SET || undefined,
      Tags: Object.entries(msg.tags ?? {}).map(([Name, Value]) => ({ Name, Value })),
    }),
  );
  return out.MessageId ?? '';
}

/** How long a container reuses the account's quota before asking SES again. */
const QUOTA_TTL_MS = 60_000;
let quota: { value: SendQuota; at: number } | undefined;

/**
 * The account's send quota (SES GetSendQuota: MaxSendRate, Max24HourSend, SentLast24Hours), asked at most
 * once a minute per container. Unknown (undefined) when SES does not answer and nothing was read before:
 * the send then goes ahead and meets SES's own answer.
 */
export async function sendQuota(now = Date.now()): Promise<SendQuota | undefined> {
  if (quota && now - quota.at < QUOTA_TTL_MS) return quota.value;
  try {
    const out = await ses.send(new GetSendQuotaCommand({}));
    if (out?.MaxSendRate === undefined) return quota?.value;
    quota = {
      value: {
        maxSendRate: out.MaxSendRate,
        max24HourSend: out.Max24HourSend ?? -1,
        sentLast24Hours: out.SentLast24Hours ?? 0,
      },
      at: now,
    };
    return quota.value;
  } catch (e) {
    logger.warn('SES GetSendQuota failed: using the last quota read', { error: (e as Error).name });
    return quota?.value;
  }
}
