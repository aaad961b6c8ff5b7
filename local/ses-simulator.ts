// SES's mailbox simulator, locally (a little over 300 lines: the v1 and v2 send parsing, the events and the
// proxy that reads each body once belong together; the quota is local/ses-quota.ts). In AWS, mail to the simulator addresses is not delivered anywhere:
// SES answers as the receiving side would and, for a configuration set with an event destination,
// publishes the events (Send, Delivery, Bounce, Complaint) to EventBridge. This sits between the fault
// proxy and aws-ses-v2-local: it reads each send (v1 SendRawEmail / SendEmail, v2 SendEmail), lets the
// emulator store it as before, and once the emulator has accepted it puts the events AWS would publish
// on the local bus, durably before SES's answer leaves (so a bounce SES accepted is delivered even across
// a crash of the stack) (source `aws.ses`, the `ses:configuration-set` tag and the message's own tags), so
// the same tests pass against AWS. Any other address gets Send + Delivery (Handoff's configuration set
// and rule take no Delivery, so its rule drops it). A send without a configuration set publishes nothing,
// as in AWS.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { PutEventsEntry } from './events.ts';
import type { BodyCheck } from './iam.ts';
import {
  answerQuota,
  answerThrottled,
  PRODUCTION_START_QUOTA,
  SesQuota,
  type SesQuotaLimits,
} from './ses-quota.ts';

/** What a send said, as far as the events need it. */
export interface Send {
  messageId: string;
  source: string;
  destinations: string[];
  configurationSet: string | undefined;
  tags: Record<string, string>;
  /** The message's own headers (a raw message's, unfolded), when the send carries them. */
  headers?: { name: string; value: string }[];
  subject?: string;
}

type Outcome = 'delivery' | 'bounce' | 'complaint' | 'suppressed';

/** What SES does with mail to each simulator address (the rest is delivered). */
export function outcomeFor(address: string): Outcome {
  const [local, domain] = address.toLowerCase().split('@');
  if (domain !== 'simulator.amazonses.com') return 'delivery';
  const base = (local ?? '').split('+')[0];
  if (base === 'bounce') return 'bounce';
  if (base === 'complaint') return 'complaint';
  if (base === 'suppressionlist') return 'suppressed';
  return 'delivery';
}

const DETAIL_TYPE = {
  Send: 'Email Sent',
  Delivery: 'Email Delivered',
  Bounce: 'Email Bounced',
  Complaint: 'Email Complaint Received',
} as const;

/** The EventBridge entries SES publishes for a send, one event per recipient outcome (as SES does). */
export function sesEventsOf(send: Send, now: Date, region: string, account: string): PutEventsEntry[] {
  if (!send.configurationSet) return [];
  const timestamp = now.toISOString();
  const fromDomain = (send.source.match(ADDRESS)?.[0] ?? send.source).split('@').pop() ?? '';
  const header = (name: string) => send.headers?.find((h) => h.name.toLowerCase() === name)?.value;
  const subject = send.subject ?? header('subject');
  const to = header('to')?.match(ADDRESS);
  // The mail object as SES publishes it: the identity that sent it, the message's headers (a simple send's
  // as SES writes them), the common ones parsed, and SES's own tags beside the message's.
  const mail = {
    timestamp,
    source: send.source,
    sourceArn: `arn:aws:ses:${region}:${account}:identity/${fromDomain}`,
    sendingAccountId: account,
    messageId: send.messageId,
    destination: send.destinations,
    headersTruncated: false,
    headers: send.headers ?? headersOfMime(simpleHead(send.source, send.destinations, subject)),
    commonHeaders: {
      from: [header('from') ?? send.source],
      to: to ?? send.destinations,
      messageId: send.messageId,
      ...(subject === undefined ? {} : { subject }),
    },
    tags: {
      'ses:configuration-set': [send.configurationSet],
      'ses:source-ip': ['127.0.0.1'],
      'ses:from-domain': [fromDomain],
      'ses:caller-identity': ['local'],
      ...Object.fromEntries(Object.entries(send.tags).map(([k, v]) => [k, [v]])),
    },
  };
  const event = (eventType: keyof typeof DETAIL_TYPE, body: Record<string, unknown>): PutEventsEntry => ({
    Source: 'aws.ses',
    DetailType: DETAIL_TYPE[eventType],
    Time: now,
    Resources: [`arn:aws:ses:${region}:${account}:configuration-set/${send.configurationSet}`],
    Detail: JSON.stringify({ eventType, mail, ...body }),
  });
  const entries = [event('Send', { send: {} })];
  for (const address of send.destinations) {
    const outcome = outcomeFor(address);
    if (outcome === 'delivery' || outcome === 'complaint') {
      entries.push(
        event('Delivery', {
          delivery: {
            timestamp,
            processingTimeMillis: 0,
            recipients: [address],
            smtpResponse: '250 2.6.0 Message received',
            reportingMTA: 'local.simulator',
          },
        }),
      );
    }
    if (outcome === 'bounce' || outcome === 'suppressed') {
      entries.push(
        event('Bounce', {
          bounce: {
            feedbackId: randomUUID(),
            bounceType: 'Permanent',
            bounceSubType: outcome === 'bounce' ? 'General' : 'OnAccountSuppressionList',
            bouncedRecipients: [{ emailAddress: address, action: 'failed', status: '5.1.1' }],
            timestamp,
            reportingMTA: 'dns; local.simulator',
          },
        }),
      );
    }
    if (outcome === 'complaint') {
      entries.push(
        event('Complaint', {
          complaint: {
            feedbackId: randomUUID(),
            complainedRecipients: [{ emailAddress: address }],
            complaintFeedbackType: 'abuse',
            arrivalDate: timestamp,
            timestamp,
          },
        }),
      );
    }
  }
  return entries;
}

const ADDRESS = /[^\s<>,;:"()]+@[^\s<>,;:"()]+/g;

/** The head SES writes for a simple (not raw) send. */
const simpleHead = (from: string, to: string[], subject = '') =>
  `From: ${from}\r\nTo: ${to.join(', ')}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\n\r\n`;

/** A raw MIME message's header lines, unfolded. */
function headerLinesOf(raw: string): string[] {
  const head = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  return head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/);
}

/** The To, Cc and Bcc addresses in a raw MIME message's headers (unfolded). */
export function recipientsOfMime(raw: string): string[] {
  return headerLinesOf(raw)
    .filter((l) => /^(to|cc|bcc):/i.test(l))
    .flatMap((l) => l.slice(l.indexOf(':') + 1).match(ADDRESS) ?? []);
}

/** A raw MIME message's headers, as SES lists them in an event's `mail.headers` (Bcc is not among them). */
export function headersOfMime(raw: string): NonNullable<Send['headers']> {
  return headerLinesOf(raw)
    .filter((l) => l.includes(':') && !/^bcc:/i.test(l))
    .map((l) => ({ name: l.slice(0, l.indexOf(':')).trim(), value: l.slice(l.indexOf(':') + 1).trim() }));
}

/** `Name.member.N` values of a query-API form, in order. */
const members = (form: URLSearchParams, prefix: string) =>
  [...form.entries()]
    .filter(([k]) => k.startsWith(`${prefix}.member.`) && /^\d+$/.test(k.slice(prefix.length + 8)))
    .sort(([a], [b]) => Number(a.slice(prefix.length + 8)) - Number(b.slice(prefix.length + 8)))
    .map(([, v]) => v);

const tagsOfForm = (form: URLSearchParams) =>
  Object.fromEntries(
    [...form.keys()]
      .filter((k) => /^Tags\.member\.\d+\.Name$/.test(k))
      .map((k) => [form.get(k) ?? '', form.get(k.replace(/Name$/, 'Value')) ?? '']),
  );

/** The send in a v1 query-API body (SendRawEmail, SendEmail), or undefined for any other action. */
export function sendOfV1(form: URLSearchParams): Omit<Send, 'messageId'> | undefined {
  const action = form.get('Action');
  const configurationSet = form.get('ConfigurationSetName') ?? undefined;
  if (action === 'SendRawEmail') {
    const raw = Buffer.from(form.get('RawMessage.Data') ?? '', 'base64').toString('utf8');
    const given = members(form, 'Destinations');
    const from = /^from:(.*)$/im.exec(raw.split(/\r?\n\r?\n/, 1)[0] ?? '')?.[1]?.match(ADDRESS)?.[0];
    return {
      source: form.get('Source') ?? from ?? '',
      destinations: given.length ? given : recipientsOfMime(raw),
      configurationSet,
      tags: tagsOfForm(form),
      headers: headersOfMime(raw),
    };
  }
  if (action === 'SendEmail') {
    return {
      source: form.get('Source') ?? '',
      destinations: ['To', 'Cc', 'Bcc'].flatMap((k) => members(form, `Destination.${k}Addresses`)),
      configurationSet,
      tags: tagsOfForm(form),
      ...subjectOf(form.get('Message.Subject.Data')),
    };
  }
  return undefined;
}

interface V2Body {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  ConfigurationSetName?: string;
  EmailTags?: { Name?: string; Value?: string }[];
  Content?: { Simple?: { Subject?: { Data?: string } }; Raw?: { Data?: string } };
}

const subjectOf = (subject: string | null | undefined) => (subject == null ? {} : { subject });

/** The send in a v2 SendEmail body. */
export function sendOfV2(body: V2Body): Omit<Send, 'messageId'> {
  const d = body.Destination ?? {};
  return {
    source: body.FromEmailAddress ?? '',
    destinations: [...(d.ToAddresses ?? []), ...(d.CcAddresses ?? []), ...(d.BccAddresses ?? [])],
    configurationSet: body.ConfigurationSetName,
    tags: Object.fromEntries((body.EmailTags ?? []).map((t) => [t.Name ?? '', t.Value ?? ''])),
    ...subjectOf(body.Content?.Simple?.Subject?.Data),
    ...(body.Content?.Raw?.Data
      ? { headers: headersOfMime(Buffer.from(body.Content.Raw.Data, 'base64').toString('utf8')) }
      : {}),
  };
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Wraps aws-ses-v2-local's request handler: sends are read here (the body handed to the emulator
 * already parsed, which its Express body parsers accept) and their events published when the emulator
 * answers 200; the answer waits for `publish` to resolve (the bus has them on disk). Everything else
 * passes through untouched.
 */
export function sesSimulator(
  emulator: RequestListener,
  publish: (entries: PutEventsEntry[]) => unknown,
  {
    region,
    account,
    now = Date.now,
    check,
    quota: limits,
  }: {
    region: string;
    account: string;
    now?: () => number;
    /** IAM (local/iam-requests.ts), on the body read here: aws-ses-v2-local's Express app takes no replayed request. */
    check?: BodyCheck;
    /** The account's send quota (local/ses-quota.ts; default a new production account's, as the stack's). */
    quota?: SesQuotaLimits;
  },
): RequestListener {
  const quota = new SesQuota(limits ?? PRODUCTION_START_QUOTA, now);
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const v1 = req.method === 'POST' && path === '/';
    const v2 = req.method === 'POST' && path === '/v2/email/outbound-emails';
    if (!v1 && !v2) return emulator(req, res);
    const text = await bodyOf(req);
    if (await check?.(req, text, res)) return;
    let send: Omit<Send, 'messageId'> | undefined;
    let parsed: unknown;
    if (v1) {
      const form = new URLSearchParams(text);
      parsed = Object.fromEntries(form);
      send = sendOfV1(form);
    } else {
      try {
        parsed = JSON.parse(text);
        send = sendOfV2(parsed as V2Body);
      } catch {
        parsed = {};
      }
    }
    (req as IncomingMessage & { body?: unknown }).body = parsed;
    if (v1 && (parsed as { Action?: string }).Action === 'GetSendQuota')
      return answerQuota(res, quota.read());
    const over = send ? quota.admit() : undefined;
    if (over) return answerThrottled(res, over, v2);
    if (send) {
      const accepted = send;
      const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
      res.end = ((...args: unknown[]) => {
        if (res.statusCode !== 200) return end(...args);
        const chunk = args[0];
        const answer = typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk.toString() : '';
        const messageId =
          /<MessageId>([^<]+)<\/MessageId>/.exec(answer)?.[1] ??
          /"MessageId"\s*:\s*"([^"]+)"/.exec(answer)?.[1] ??
          randomUUID();
        // The mail is sent (the emulator said 200) whatever happens: a failure to store its events is logged,
        // and the answer still goes (the events are delivered from memory; only a crash could lose them).
        void Promise.resolve()
          .then(() => publish(sesEventsOf({ ...accepted, messageId }, new Date(now()), region, account)))
          .catch((e: Error) => console.error(`ses: storing the events of ${messageId} failed: ${e.message}`))
          .then(() => end(...args));
        return res;
      }) as typeof res.end;
    }
    return emulator(req, res);
  };
}
