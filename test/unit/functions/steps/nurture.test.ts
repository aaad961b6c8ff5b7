import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { SendTaskSuccessCommand, SFNClient, TaskDoesNotExist } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { signalLead } from '#functions/lead/signals.ts';
import { timeline } from '#functions/lead/timeline.ts';
import { sfnRuns } from '#functions/platform/runs.ts';
import { createHandler as awaitSignalWith } from '#functions/steps/await-signal.ts';
import type { StepInput } from '#functions/steps/contracts.ts';
import { ENDING_WAIT_SECONDS, createHandler as nurtureWith } from '#functions/steps/nurture.ts';
import { config } from '#test/fixtures/config.ts';
import { aLambdaContext } from '#test/fixtures/lambda.ts';
import { aLead } from '#test/fixtures/leads.ts';
import { type MemoryStores, memoryStores } from '#test/fixtures/memory-stores.ts';

const ses = mockClient(SESClient);
const secrets = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const lead = aLead({ formType: 'newsletter', timeZone: 'America/Chicago' });
// Wednesday 10:00 in Chicago: inside business hours.
const WEDNESDAY = new Date('2026-11-25T16:00:00.000Z');
let db: MemoryStores;
const runs = sfnRuns();

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: WEDNESDAY });
  db = memoryStores();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: 'k'.repeat(40) });
  ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
  await db.leads.capture(lead, 'run-1', WEDNESDAY.toISOString());
  await db.leads.setStage(lead.id, 'nurturing', WEDNESDAY.toISOString());
});
afterEach(() => {
  vi.useRealTimers();
  ses.reset();
  secrets.reset();
  sfn.reset();
});

type Input = StepInput<'nurture'>;
const nurture = (input: Partial<Input> = {}) =>
  nurtureWith(db)(
    { leadId: lead.id, nurture: { cycle: 0, step: 0 }, wake: null, ...input },
    aLambdaContext(),
  );
const hourIn = (iso: string, tz = 'America/Chicago') =>
  Number(
    new Intl.DateTimeFormat('en-US', { timeZone: tz, hour: 'numeric', hourCycle: 'h23' }).format(
      new Date(iso),
    ),
  );
const timer = { Error: 'States.Timeout' };

describe('Nurture', () => {
  it('reads the lead once per step, in the write that clears its signals (no GetItem of its own)', async () => {
    let reads = 0;
    let clears = 0;
    const get = db.leads.get.bind(db.leads);
    const clear = db.signals.clear.bind(db.signals);
    db.leads.get = async (id) => {
      reads += 1;
      return get(id);
    };
    db.signals.clear = async (id) => {
      clears += 1;
      return clear(id);
    };
    await nurture();
    expect(clears).toBe(1);
    expect(reads).toBe(0);
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
  });

  it('sends the first email at once in business hours and waits until the next is due', async () => {
    const out = await nurture();
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(out).toMatchObject({ cycle: 0, step: 1, next: 'wait' });
    expect(hourIn(String(out.nextSendAt))).toBeGreaterThanOrEqual(config.nurture.businessHours.startHour);
    expect(out.waitSeconds).toBeGreaterThanOrEqual((config.nurture.steps[0]?.delayDays ?? 0) * 86_400 - 60);
    expect((await db.sends.claim(lead.id, 0, 0, WEDNESDAY, WEDNESDAY, 0)).state).toBe('sent');
  });

  it('sends the email that answers the form at once at any hour (Saturday 10:00 in the lead’s zone)', async () => {
    vi.setSystemTime(new Date('2026-11-28T16:00:00.000Z'));
    const out = await nurture();
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(out).toMatchObject({ step: 1, next: 'wait' });
  });

  it('holds a later email found due on Saturday until Monday’s opening, spread over its first hours', async () => {
    vi.setSystemTime(new Date('2026-11-28T16:00:00.000Z'));
    const state = { cycle: 0, step: 1, nextSendAt: '2026-11-27T16:00:00Z' };
    const out = await nurture({ nurture: state, wake: { signal: 'click' } });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect(out).toMatchObject({ step: 1, next: 'wait' });
    const until = Date.parse(String(out.nextSendAt));
    const opens = Date.parse('2026-11-30T15:00:00.000Z');
    expect(until).toBeGreaterThan(opens);
    expect(until).toBeLessThan(opens + config.nurture.sending.openingSpreadMinutes * 60_000);
  });

  it('sends the next email when its timer ends the wait, once even if the step is retried', async () => {
    const state = { cycle: 0, step: 1, nextSendAt: '2026-11-25T16:00:00Z' };
    await nurture({ nurture: state, wake: timer });
    const again = await nurture({ nurture: state, wake: timer });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
    expect(again).toMatchObject({ step: 2, next: 'wait' });
  });

  it('woken early by a signal, sends nothing and keeps the same due time', async () => {
    const state = { cycle: 0, step: 1, nextSendAt: '2026-11-27T16:00:00Z' };
    const out = await nurture({ nurture: state, wake: { signal: 'click' } });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    expect(out).toMatchObject({ step: 1, next: 'wait', nextSendAt: '2026-11-27T16:00:00Z' });
  });

  it('hands a lead who just asked for a demo to sales, at once', async () => {
    const demo = { formType: 'demo-request' };
    await db.leads.putEvent(lead.id, timeline.form(WEDNESDAY.toISOString(), demo, 'run-1', 'delivered'));
    const out = await nurture({
      nurture: { cycle: 0, step: 1, nextSendAt: '2026-11-27T16:00:00Z' },
      wake: { signal: 'form' },
    });
    expect(out.next).toBe('sales-ready');
    // The wait follows every answer: an ending one bounds it (it resumes at once).
    expect(out.waitSeconds).toBe(ENDING_WAIT_SECONDS);
    expect((await db.leads.get(lead.id))?.stage).toBe('sales-ready');
  });

  it.each([
    ['bounced', 'bounced'],
    ['complained', 'complained'],
    ['unsubscribed', 'unsubscribed'],
  ] as const)('ends a lead whose address %s, in that stage, without another email', async (reason, stage) => {
    await db.suppression.suppress(lead.email, reason, 'ses', WEDNESDAY.toISOString());
    const out = await nurture({ wake: { signal: 'bounce' } });
    expect(out).toMatchObject({ next: stage, waitSeconds: ENDING_WAIT_SECONDS });
    expect((await db.leads.get(lead.id))?.stage).toBe(stage);
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
  });

  it('pauses a due send while the deliverability breaker is tripped, and sends once it is reset', async () => {
    await db.deliverability.trip('bounce rate 9 %', WEDNESDAY.toISOString());
    // Enough healthy volume that the window alone would not clear it: only a reset does.
    for (let i = 0; i < 200; i++) await db.deliverability.count('sent', WEDNESDAY);
    for (let i = 0; i < 20; i++) await db.deliverability.count('bounced', WEDNESDAY);
    const state = { cycle: 0, step: 1, nextSendAt: '2026-11-25T16:00:00Z' };
    const paused = await nurture({ nurture: state, wake: timer });
    expect(paused).toMatchObject({ step: 1, next: 'wait' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(0);
    await db.deliverability.reset();
    const resumed = await nurture({
      nurture: { ...state, nextSendAt: String(paused.nextSendAt) },
      wake: timer,
    });
    expect(resumed).toMatchObject({ step: 2, next: 'wait' });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(1);
  });
});

describe('signals wake a parked nurture wait', () => {
  // Without `next` (a run started when the wait came after "Next?", on `wait` only) the wait parks.
  it('wakes the parked token at once', async () => {
    expect(
      await awaitSignalWith({ ...db, runs })({ taskToken: 'tok-1', leadId: lead.id }, aLambdaContext()),
    ).toEqual({
      parked: true,
    });
    expect(await signalLead({ signals: db.signals, runs }, lead.id, 'click')).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-1', output: JSON.stringify({ signal: 'click' }) },
    ]);
  });

  it('keeps a signal that arrives before the wait parks, and the wait resumes itself with it', async () => {
    expect(await signalLead({ signals: db.signals, runs }, lead.id, 'unsubscribe')).toBe(false);
    expect(
      await awaitSignalWith({ ...db, runs })({ taskToken: 'tok-2', leadId: lead.id }, aLambdaContext()),
    ).toEqual({
      parked: false,
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok-2',
      output: JSON.stringify({ signal: 'unsubscribe' }),
    });
  });

  it('after any other decision, resumes the run at once with it and parks nothing', async () => {
    expect(
      await awaitSignalWith({ ...db, runs })(
        { taskToken: 'tok-4', leadId: lead.id, next: 'sales-ready' },
        aLambdaContext(),
      ),
    ).toEqual({ parked: false });
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input)).toEqual([
      { taskToken: 'tok-4', output: JSON.stringify({ next: 'sales-ready' }) },
    ]);
    // No token on the lead: a signal now is left for the lead's next wait, and does not touch this run.
    expect(await signalLead({ signals: db.signals, runs }, lead.id, 'form')).toBe(false);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
  });

  it('leaves a waiting signal alone at an end (only a wait takes it), and a retry writes nothing', async () => {
    expect(await signalLead({ signals: db.signals, runs }, lead.id, 'click')).toBe(false);
    sfn
      .on(SendTaskSuccessCommand)
      .resolvesOnce({})
      .rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    const ending = { taskToken: 'tok-5', leadId: lead.id, next: 'done' as const };
    expect(await awaitSignalWith({ ...db, runs })(ending, aLambdaContext())).toEqual({ parked: false });
    // Retried after it resumed the run: the settled token refuses, and nothing else happens.
    expect(await awaitSignalWith({ ...db, runs })(ending, aLambdaContext())).toEqual({ parked: false });
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.output)).toEqual([
      JSON.stringify({ next: 'done' }),
      JSON.stringify({ next: 'done' }),
    ]);
    expect(
      await awaitSignalWith({ ...db, runs })(
        { taskToken: 'tok-6', leadId: lead.id, next: 'wait' },
        aLambdaContext(),
      ),
    ).toEqual({
      parked: false,
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[2]?.args[0].input.output).toBe(
      JSON.stringify({ signal: 'click' }),
    );
  });

  it('forgets signals once a nurture step has looked at everything', async () => {
    await signalLead({ signals: db.signals, runs }, lead.id, 'click');
    await nurture({
      nurture: { cycle: 0, step: 1, nextSendAt: '2026-11-27T16:00:00Z' },
      wake: { signal: 'click' },
    });
    expect(
      await awaitSignalWith({ ...db, runs })({ taskToken: 'tok-3', leadId: lead.id }, aLambdaContext()),
    ).toEqual({
      parked: true,
    });
  });
});

/** An error as the SDK raises SES's answer (or its absence). */
const sesError = (name: string, message: string, httpStatusCode?: number) =>
  Object.assign(new Error(message), { name, $metadata: httpStatusCode ? { httpStatusCode } : {} });

describe('Nurture: outages and throttles are waits, and a send is claimed before SES', () => {
  const due = { cycle: 0, step: 1, nextSendAt: '2026-11-25T16:00:00Z' };
  const events = async () =>
    (await db.leads.listEvents(lead.id)).map((e) => ({ type: e.type, data: e.data }));

  it.each([
    ['SES throttling', sesError('Throttling', 'Maximum sending rate exceeded.', 400)],
    ['SES unavailable', sesError('ServiceUnavailable', 'Service is unavailable.', 503)],
    ['SES unavailable', sesError('Error', 'connect ECONNREFUSED 127.0.0.1:4566')],
    ['daily send quota', sesError('Throttling', 'Daily message quota exceeded.', 400)],
  ])(
    'parks the run when SES answers %s past the retries, says so on the timeline, and sends once it is back',
    async (reason, error) => {
      ses.on(SendRawEmailCommand).rejects(error);
      const parked = await nurture({ nurture: due, wake: timer });
      expect(parked).toMatchObject({ step: 1, next: 'wait' });
      const minutes =
        reason === 'daily send quota'
          ? config.nurture.sending.quotaRecheckMinutes
          : config.nurture.sending.retryMinutes;
      expect(parked.waitSeconds).toBeGreaterThanOrEqual(minutes * 60);
      expect(parked.waitSeconds).toBeLessThanOrEqual(minutes * 120);
      expect(await events()).toContainEqual({
        type: 'send-deferred',
        data: expect.objectContaining({ reason, template: config.nurture.steps[1]?.template, step: 1 }),
      });
      ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-2' });
      vi.setSystemTime(new Date(String(parked.nextSendAt)));
      const sent = await nurture({ nurture: { ...due, nextSendAt: String(parked.nextSendAt) }, wake: timer });
      expect(sent).toMatchObject({ step: 2, next: 'wait' });
      expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(2);
    },
  );

  it('does not send again within the crashed attempt’s deadline when it crashed after SES accepted', async () => {
    let accepted = 0;
    ses.on(SendRawEmailCommand).callsFake(() => {
      accepted += 1;
      if (accepted === 1) throw new Error('Runtime.ExitError: the worker died after SES accepted');
      return { MessageId: `m-${accepted}` };
    });
    await expect(nurture({ nurture: due, wake: timer })).rejects.toThrow(/worker died/);
    // Step Functions retries at once: the claim is fresh, so the retry waits instead of sending again.
    vi.setSystemTime(new Date(WEDNESDAY.getTime() + 2_000));
    const retried = await nurture({ nurture: due, wake: timer });
    expect(accepted).toBe(1);
    expect(retried).toMatchObject({ step: 1, next: 'wait' });
    expect(retried.waitSeconds).toBeLessThanOrEqual(10);
    expect(await events()).toContainEqual({
      type: 'send-deferred',
      data: expect.objectContaining({ reason: 'send in progress' }),
    });
    // Past the deadline the crashed attempt is gone for sure: the email goes again (at least once).
    vi.setSystemTime(new Date(String(retried.nextSendAt)));
    const resent = await nurture({
      nurture: { ...due, nextSendAt: String(retried.nextSendAt) },
      wake: timer,
    });
    expect(resent).toMatchObject({ step: 2, next: 'wait' });
    expect(accepted).toBe(2);
  });

  it('drops the claim when SES refuses, so the next attempt sends at once', async () => {
    ses
      .on(SendRawEmailCommand)
      .rejectsOnce(sesError('Throttling', 'Maximum sending rate exceeded.', 400))
      .resolves({ MessageId: 'm-3' });
    await nurture({ nurture: due, wake: timer });
    const again = await nurture({ nurture: due, wake: timer });
    expect(again).toMatchObject({ step: 2 });
    expect(ses.commandCalls(SendRawEmailCommand)).toHaveLength(2);
  });
});
