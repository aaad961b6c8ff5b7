// SES receiving, locally: the template's receipt rules (AWS::SES::ReceiptRule) whose SNS action goes to a
// topic a function is subscribed to (AWS::SNS::Subscription, protocol lambda), and a message delivered as
// AWS delivers it — the receipt notification with the whole message, Base64, in SNS's Lambda event, invoked
// asynchronously and only if the function's resource policy lets SNS invoke it for that topic. The mailbox
// answers a message with `replyMime` (scripts/reply.ts, `npm run reply`).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestListener } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

export interface ReceiptTarget {
  /** Domains and addresses the rule takes (a domain takes every address at it, as in SES). */
  recipients: string[];
  topicArn: string;
  functionArn: string;
}

/** Every receipt rule's SNS action that reaches a function. */
export function receiptTargetsOf(template: CfnTemplate, n: LocalNames): ReceiptTarget[] {
  const resources = Object.values(template.Resources);
  const subscriptions = resources.filter(
    (r) => r.Type === 'AWS::SNS::Subscription' && r.Properties?.Protocol === 'lambda',
  );
  return resources
    .filter((r) => r.Type === 'AWS::SES::ReceiptRule')
    .flatMap((r) => {
      const rule = (r.Properties?.Rule ?? {}) as {
        Recipients?: string[];
        Actions?: { SNSAction?: { TopicArn?: unknown } }[];
      };
      return (rule.Actions ?? []).flatMap((a) => {
        if (!a.SNSAction) return [];
        const topicArn = String(resolve(template, a.SNSAction.TopicArn, n));
        return subscriptions
          .filter((s) => String(resolve(template, s.Properties?.TopicArn, n)) === topicArn)
          .map((s) => ({
            recipients: (rule.Recipients ?? []).map((x) => x.toLowerCase()),
            topicArn,
            functionArn: String(resolve(template, s.Properties?.Endpoint, n)),
          }));
      });
    });
}

/** Whether a rule's recipient (a domain or an address) takes `address`. */
export function takes(recipient: string, address: string): boolean {
  const a = address.toLowerCase();
  return recipient.includes('@')
    ? a === recipient
    : a.endsWith(`@${recipient}`) || a.endsWith(`.${recipient}`);
}

/** SNS's Lambda event for a receipt notification of `raw` to `recipients`, received at `now`. */
export function receivedEvent(raw: string, recipients: string[], topicArn: string, now: Date) {
  const message = {
    notificationType: 'Received',
    mail: { timestamp: now.toISOString(), messageId: randomUUID(), source: '', destination: recipients },
    receipt: {
      timestamp: now.toISOString(),
      recipients,
      spamVerdict: { status: 'PASS' },
      virusVerdict: { status: 'PASS' },
      action: { type: 'SNS', topicArn, encoding: 'BASE64' },
    },
    content: Buffer.from(raw, 'utf8').toString('base64'),
  };
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Subject: 'Amazon SES Email Receipt Notification',
          Message: JSON.stringify(message),
          Timestamp: now.toISOString(),
        },
      },
    ],
  };
}

/** A plain-text reply (RFC 5322) from `from` to `to`, answering `subject`, with any extra headers. */
export function replyMime(o: {
  from: string;
  to: string;
  subject: string;
  text: string;
  headers?: Record<string, string>;
  now: Date;
}): string {
  const subject = /^re:/i.test(o.subject) ? o.subject : `Re: ${o.subject}`;
  const extra = Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`);
  return [
    `From: ${o.from}`,
    `To: ${o.to}`,
    `Subject: =?UTF-8?B?${Buffer.from(subject, 'utf8').toString('base64')}?=`,
    `Date: ${o.now.toUTCString()}`,
    `Message-ID: <${randomUUID()}@local.handoff>`,
    'MIME-Version: 1.0',
    ...extra,
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(o.text, 'utf8')
      .toString('base64')
      .replace(/.{1,76}/g, '$&\r\n'),
  ].join('\r\n');
}

/** The mailbox page's reply buttons (local/mailbox-reply.js), served beside aws-ses-v2-local's page. */
const MAILBOX_SCRIPT = '/_handoff/mailbox-reply.js';

/** aws-ses-v2-local's mailbox page with the reply buttons' script, or that script. */
function mailboxPage(path: string, res: Parameters<RequestListener>[1]) {
  if (path === MAILBOX_SCRIPT) {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(readFileSync(join(import.meta.dirname, 'mailbox-reply.js')));
    return;
  }
  const page = join(
    createRequire(import.meta.url).resolve('aws-ses-v2-local/package.json'),
    '..',
    'static',
    'index.html',
  );
  const html = readFileSync(page, 'utf8').replace(
    '</body>',
    `<script src="${MAILBOX_SCRIPT}"></script></body>`,
  );
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(html);
}

/** Where the local stack takes mail in: `POST /_handoff/inbound` on its SES port. */
export const INBOUND_PATH = '/_handoff/inbound';
const MAX_INBOUND = 150 * 1024; // what an SNS action carries; SES drops a larger message for it

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_INBOUND * 2) throw new Error('too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const answer = (res: Parameters<RequestListener>[1], status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/**
 * SES receiving in front of the SES port: `POST /_handoff/inbound` `{ raw, recipients }` delivers a message
 * to every receipt rule that takes one of its recipients, as AWS does (the SNS action's function, if its
 * resource policy lets SNS invoke it for that topic); anything else goes on to `next`. Answers what each
 * invocation said. Mail to no rule's recipient is dropped, as SES drops it (`delivered: 0`).
 */
export function receivingHandler(
  next: RequestListener,
  targets: readonly ReceiptTarget[],
  invoke: (
    arn: string,
    payload: unknown,
  ) => Promise<{ ok: boolean; errorType?: string; errorMessage?: string; result?: unknown }>,
  authorize: (functionArn: string, topicArn: string) => Promise<string | undefined>,
  now: () => number,
): RequestListener {
  return async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && (path === '/' || path === MAILBOX_SCRIPT)) return mailboxPage(path, res);
    if (path !== INBOUND_PATH) return next(req, res);
    if (req.method !== 'POST') return answer(res, 405, { error: 'POST a message: { raw, recipients }' });
    let body: { raw?: unknown; recipients?: unknown };
    try {
      body = JSON.parse(await bodyOf(req)) as typeof body;
    } catch {
      return answer(res, 400, { error: 'The body must be JSON: { raw, recipients }' });
    }
    const recipients = Array.isArray(body.recipients) ? body.recipients.map(String) : [];
    if (typeof body.raw !== 'string' || !recipients.length)
      return answer(res, 400, {
        error: 'raw (the message) and recipients (its envelope addresses) are required',
      });
    if (Buffer.byteLength(body.raw) > MAX_INBOUND)
      return answer(res, 413, { error: 'A message over 150 KB does not fit an SNS action: SES drops it' });
    const results = [];
    for (const t of targets) {
      const taken = recipients.filter((r) => t.recipients.some((x) => takes(x, r)));
      if (!taken.length) continue;
      const denied = await authorize(t.functionArn, t.topicArn);
      const r = denied
        ? { ok: false, errorType: 'AccessDeniedException', errorMessage: denied }
        : await invoke(t.functionArn, receivedEvent(body.raw, taken, t.topicArn, new Date(now())));
      results.push({ function: t.functionArn.split(':').at(-1), ...r });
    }
    return answer(res, 200, { delivered: results.filter((r) => r.ok).length, results });
  };
}
