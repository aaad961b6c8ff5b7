import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESClient, SendEmailCommand, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startSes } from '#local/emulators.ts';
import type { PutEventsEntry } from '#local/events.ts';
import { Mailbox } from '#local/mailbox.ts';
import { outcomeFor, recipientsOfMime, sesSimulator } from '#local/ses-simulator.ts';

// The simulator in front of the real aws-ses-v2-local, driven by the AWS SDK as the functions drive it.
let emulator: Emulator;
let front: Server;
let ses: SESClient;
let mailbox: Mailbox;
const published: PutEventsEntry[] = [];
/** What publishing waits for (the bus storing the events); none: stored at once. */
let stored: Promise<void> | undefined;

beforeAll(async () => {
  emulator = await startSes();
  front = createServer(
    sesSimulator(
      emulator.handler,
      (e) => {
        published.push(...e);
        return stored;
      },
      {
        region: 'us-east-1',
        account: '000000000000',
      },
    ),
  );
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  ses = new SESClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  mailbox = new Mailbox(url);
});
afterAll(async () => {
  await new Promise((r) => front.close(r));
  await new Promise((r) => emulator.server.close(r));
});
beforeEach(() => {
  published.length = 0;
  stored = undefined;
});

const raw = (to: string) =>
  Buffer.from(
    `From: Handoff <hello@handoff.example>\r\nTo: "Some One" <${to}>\r\nSubject: Hi\r\nContent-Type: text/plain\r\n\r\nHello\r\n`,
  );
const sendRaw = (to: string, { withConfigurationSet = true } = {}) =>
  ses.send(
    new SendRawEmailCommand({
      RawMessage: { Data: raw(to) },
      ConfigurationSetName: withConfigurationSet ? 'HandoffMail' : undefined,
      Tags: [{ Name: 'leadId', Value: 'lead-1' }],
    }),
  );
const settle = () => new Promise((r) => setTimeout(r, 20));
const detailOf = (e: PutEventsEntry) => JSON.parse(String(e.Detail)) as unknown;

describe('local SES mailbox simulator', () => {
  it('bounce@: Send then a permanent Bounce, with the configuration set and the message’s tags', async () => {
    const { MessageId } = await sendRaw('bounce@simulator.amazonses.com');
    await settle();
    expect(published.map((e) => e.DetailType)).toEqual(['Email Sent', 'Email Bounced']);
    expect(published.every((e) => e.Source === 'aws.ses')).toBe(true);
    const bounce = detailOf(published[1] as PutEventsEntry) as {
      eventType: string;
      mail: { messageId: string; destination: string[]; tags: Record<string, string[]> };
      bounce: { bounceType: string; bouncedRecipients: { emailAddress: string }[] };
    };
    expect(bounce.eventType).toBe('Bounce');
    expect(bounce.mail).toMatchObject({
      messageId: MessageId,
      destination: ['bounce@simulator.amazonses.com'],
      tags: { 'ses:configuration-set': ['HandoffMail'], leadId: ['lead-1'] },
    });
    expect(bounce.bounce).toMatchObject({
      bounceType: 'Permanent',
      bouncedRecipients: [{ emailAddress: 'bounce@simulator.amazonses.com' }],
    });
    // The raw message's headers, and the common ones parsed, as SES publishes them.
    expect(bounce.mail).toMatchObject({
      sourceArn: 'arn:aws:ses:us-east-1:000000000000:identity/handoff.example',
      headers: expect.arrayContaining([{ name: 'Subject', value: 'Hi' }]),
      commonHeaders: {
        from: ['Handoff <hello@handoff.example>'],
        to: ['bounce@simulator.amazonses.com'],
        messageId: MessageId,
        subject: 'Hi',
      },
      tags: { 'ses:from-domain': ['handoff.example'] },
    });
    // The emulator still stored the mail (the mailbox viewer shows it).
    expect((await mailbox.list()).some((m) => m.destination.to.join().includes('bounce@'))).toBe(true);
  });

  it('complaint@: delivered, then a Complaint; suppressionlist@: a permanent bounce; success@: delivered', async () => {
    await sendRaw('complaint@simulator.amazonses.com');
    await sendRaw('suppressionlist@simulator.amazonses.com');
    await sendRaw('success@simulator.amazonses.com');
    await settle();
    expect(published.map((e) => e.DetailType)).toEqual([
      'Email Sent',
      'Email Delivered',
      'Email Complaint Received',
      'Email Sent',
      'Email Bounced',
      'Email Sent',
      'Email Delivered',
    ]);
    expect(detailOf(published[4] as PutEventsEntry)).toMatchObject({
      bounce: { bounceType: 'Permanent', bounceSubType: 'OnAccountSuppressionList' },
    });
  });

  it('reads SendEmail too, and publishes nothing for a send without a configuration set (as AWS)', async () => {
    await ses.send(
      new SendEmailCommand({
        Source: 'hello@handoff.example',
        Destination: { ToAddresses: ['bounce+x@simulator.amazonses.com'] },
        Message: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hello' } } },
        ConfigurationSetName: 'HandoffMail',
      }),
    );
    await settle();
    expect(published.map((e) => e.DetailType)).toEqual(['Email Sent', 'Email Bounced']);
    published.length = 0;
    await sendRaw('bounce@simulator.amazonses.com', { withConfigurationSet: false });
    await settle();
    expect(published).toEqual([]);
  });

  it('answers a send only once its events are stored (a bounce SES accepted survives a crash of the stack)', async () => {
    let store: () => void = () => undefined;
    stored = new Promise<void>((r) => {
      store = r;
    });
    let answered = false;
    const send = sendRaw('bounce@simulator.amazonses.com').then((out) => {
      answered = true;
      return out;
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(published.map((e) => e.DetailType)).toEqual(['Email Sent', 'Email Bounced']);
    expect(answered).toBe(false);
    store();
    const { MessageId } = await send;
    expect(JSON.stringify(detailOf(published[1] as PutEventsEntry))).toContain(String(MessageId));
  });

  it('publishes nothing for a send the emulator refuses', async () => {
    const bad = await fetch(`http://127.0.0.1:${(front.address() as AddressInfo).port}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=SendRawEmail&ConfigurationSetName=HandoffMail',
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    await settle();
    expect(published).toEqual([]);
  });

  it('knows the simulator addresses, with +labels, and reads To/Cc/Bcc from folded headers', () => {
    expect(outcomeFor('BOUNCE+run-7@simulator.amazonses.com')).toBe('bounce');
    expect(outcomeFor('complaint@simulator.amazonses.com')).toBe('complaint');
    expect(outcomeFor('bounce@acme-robotics.com')).toBe('delivery');
    expect(
      recipientsOfMime(
        'To: A <a@x.example>,\r\n B <b@y.example>\r\nCc: c@z.example\r\nSubject: s\r\n\r\nTo: no@body.example',
      ),
    ).toEqual(['a@x.example', 'b@y.example', 'c@z.example']);
  });
});
