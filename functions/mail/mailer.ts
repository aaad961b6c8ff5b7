import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { buildMime, type MailMessage } from './mime.ts';

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
