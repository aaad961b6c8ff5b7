// SES receiving, locally: the template's receipt rules (AWS::SES::ReceiptRule) whose SNS action goes to a
// topic a function is subscribed to (AWS::SNS::Subscription, protocol lambda), and a message delivered as
// AWS delivers it — the receipt notification with the whole message, Base64, in SNS's Lambda event, invoked
// asynchronously and only if the function's resource policy lets SNS invoke it for that topic. The mailbox
// answers a message with `replyMime` (scripts/reply.ts, `npm run reply`).
import { randomUUID } from 'node:crypto';
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
