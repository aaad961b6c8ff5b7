import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type AslDefinition, loadTemplate, stateMachinesOf } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';

let def: AslDefinition;
beforeAll(() => {
  const template = loadTemplate(inject('cdkOut'));
  const machine = stateMachinesOf(template, { region: 'us-east-1', account: '000000000000' })[0];
  if (!machine) throw new Error('no state machine');
  def = machine.definition;
});

const states = () => Object.entries(def.States);
const tasks = () => states().filter(([, s]) => s.Type === 'Task');

describe('synthesized lead-to-close definition', () => {
  it('retries transient errors with backoff and full jitter on every Task', () => {
    for (const [name, s] of tasks()) {
      const retry =
        (s.Retry as { BackoffRate?: number; JitterStrategy?: string; ErrorEquals: string[] }[] | undefined) ??
        [];
      expect(retry.length, name).toBeGreaterThan(0);
      expect(retry[0]?.BackoffRate, name).toBe(2);
      expect(retry[0]?.JitterStrategy, name).toBe('FULL');
      expect(retry[0]?.ErrorEquals, name).not.toContain('States.ALL');
    }
  });

  it('catches no failure: a step that still fails after its retries fails the run there, to be redriven', () => {
    const caught = tasks().flatMap(([name, s]) =>
      ((s.Catch as { ErrorEquals: string[]; Next: string }[] | undefined) ?? []).map(
        (c) => [name, c] as const,
      ),
    );
    for (const [name, c] of caught) expect(c.ErrorEquals, name).not.toContain('States.ALL');
    // Only named business paths: the rep SLA, the outcome wait, and a full team's wait for a free slot.
    expect(caught.map(([name, c]) => `${name}: ${c.ErrorEquals.join(',')} → ${c.Next}`).sort()).toEqual(
      [
        'Assign rep: CapacityFreed,States.Timeout → Assign rep',
        'Await deal outcome: States.Timeout → Close as stale',
        'Await rep acceptance: States.Timeout → Reassignments left?',
        'Reassign rep: CapacityFreed,States.Timeout → Reassign rep',
        'Wait for a signal or the next send: States.Timeout → Nurture',
        // A long wait hands the run on to a new execution (runs that wait a year).
        'Assign rep: ContinueAsNew → Continue as a new run',
        'Reassign rep: ContinueAsNew → Continue as a new run',
        'Wait for a signal or the next send: ContinueAsNew → Continue as a new run',
      ].sort(),
    );
    expect(states().filter(([, s]) => s.Type === 'Fail')).toEqual([]);
    expect(def.States['Record failure']).toBeUndefined();
  });

  it('retries a Lambda timeout, a throttle and a crashed sandbox: every step is idempotent', () => {
    for (const [name, s] of tasks()) {
      const retriers = s.Retry as { ErrorEquals: string[]; MaxAttempts: number }[];
      const errors = retriers.flatMap((r) => r.ErrorEquals);
      for (const e of ['Sandbox.Timedout', 'Lambda.TooManyRequestsException', 'Runtime.ExitError'])
        expect(errors, name).toContain(e);
      // Each error in one retrier only (the first match would win), and throttles get the long one.
      expect(new Set(errors).size, name).toBe(errors.length);
      const throttle = retriers.find((r) => r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
      expect(throttle?.MaxAttempts, name).toBeGreaterThanOrEqual(10);
      // A plain step's own timeout is retried; a waiting step's timeout is its business path (caught).
      const waits = String(s.Resource).endsWith('.waitForTaskToken');
      expect(errors.includes('States.Timeout'), name).toBe(!waits);
    }
  });

  it('waits for a free rep inside "Assign rep", looking again on its own every capacityRecheckMinutes', () => {
    for (const name of ['Assign rep', 'Reassign rep']) {
      expect(def.States[name]?.Resource, name).toMatch(/waitForTaskToken$/);
      expect(def.States[name]?.TimeoutSeconds, name).toBe(config.reps.sla.capacityRecheckMinutes * 60);
    }
  });

  it('times every plain step above its function’s own timeout (the local engine relies on it)', () => {
    const template = loadTemplate(inject('cdkOut'));
    const timeoutOf = (arn: string) => {
      const id = Object.keys(template.Resources).find((k) => arn.includes(k));
      return Number((template.Resources[id ?? '']?.Properties as { Timeout?: number } | undefined)?.Timeout);
    };
    // payloadResponseOnly: the Resource is the function's ARN itself.
    const plain = tasks().filter(([, s]) => String(s.Resource).startsWith('arn:aws:lambda:'));
    expect(plain.map(([name]) => name)).toContain('Capture & score lead');
    for (const [name, s] of plain) {
      const timeout = timeoutOf(String(s.Resource));
      expect(timeout, name).toBeGreaterThan(0);
      expect(Number(s.TimeoutSeconds), name).toBeGreaterThan(timeout);
    }
  });

  it('gives every Task an explicit timeout, the rep SLA on acceptance', () => {
    for (const [name, s] of tasks())
      expect(Number(s.TimeoutSeconds ?? 0) > 0 || typeof s.TimeoutSecondsPath === 'string', name).toBe(true);
    expect(def.States['Await rep acceptance']?.TimeoutSeconds).toBe(config.reps.sla.acceptWithinHours * 3600);
    expect(def.States['Await deal outcome']?.TimeoutSeconds).toBe(config.reps.sla.closeWithinDays * 86_400);
    expect(def.States['Await rep acceptance']?.Resource).toMatch(/waitForTaskToken$/);
  });

  it('waits for a signal or the next send on a task token, until the time the nurture step gave', () => {
    expect(def.States['Wait for a signal or the next send']).toMatchObject({
      Type: 'Task',
      TimeoutSecondsPath: '$.nurture.waitSeconds',
      Resource: expect.stringMatching(/waitForTaskToken$/),
    });
    expect(states().filter(([, s]) => s.Type === 'Wait')).toEqual([]);
  });

  it('loops two states per nurture email (Nurture → the wait); "Next?" routes only after the wait', () => {
    const wait = 'Wait for a signal or the next send';
    expect(def.States.Nurture?.Next).toBe(wait);
    expect(def.States[wait]?.Next).toBe('Next?');
    // The wait knows the step's decision: anything but `wait` resumes it at once.
    expect(def.States[wait]?.Parameters).toMatchObject({
      Payload: { 'taskToken.$': '$$.Task.Token', 'leadId.$': '$.lead.id', 'next.$': '$.nurture.next' },
    });
    expect(def.States[wait]?.ResultPath).toBe('$.wake');
    // "Next?" routes on the step's decision, never on what woke the wait ($.wake).
    const choice = def.States['Next?'] as {
      Choices: { Variable: string; StringEquals: string; Next: string }[];
      Default: string;
    };
    expect(choice.Choices.every((c) => c.Variable === '$.nurture.next')).toBe(true);
    expect(Object.fromEntries(choice.Choices.map((c) => [c.StringEquals, c.Next]))).toEqual({
      wait: 'Nurture',
      'sales-ready': 'Assign rep',
      unsubscribed: 'Unsubscribed',
      bounced: 'Bounced',
      complained: 'Complained',
      'not-emailable': 'Not emailable (no marketing consent)',
      unconfirmed: 'Not confirmed (double opt-in)',
    });
    expect(choice.Default).toBe('Nurtured (stays a marketing lead)');
    // Every way into the loop enters Nurture first, whose every answer has the wait's waitSeconds.
    const into = states()
      .filter(([name]) => name !== 'Nurture')
      .flatMap(([name, s]) => {
        const c = s as {
          Next?: string;
          Default?: string;
          Choices?: { Next: string }[];
          Catch?: { Next: string }[];
        };
        const targets = [
          c.Next,
          c.Default,
          ...(c.Choices ?? []).map((x) => x.Next),
          ...(c.Catch ?? []).map((x) => x.Next),
        ];
        return targets.includes(wait) ? [name] : [];
      });
    expect(into).toEqual([]);
  });

  it('ends every path in an explicit Succeed (failures end where they fail, redrivable)', () => {
    const ends = states().filter(([, s]) => s.End === true || s.Type === 'Succeed' || s.Type === 'Fail');
    for (const [name, s] of ends) expect(['Succeed', 'Fail'], name).toContain(s.Type);
    expect(ends.map(([n]) => n).sort()).toEqual(
      [
        'Bounced',
        'Complained',
        'Continued as a new run',
        'Deal closed',
        'Disqualified',
        'Merged into active lead',
        'Not confirmed (double opt-in)',
        'Not emailable (no marketing consent)',
        'Nurtured (stays a marketing lead)',
        'Unsubscribed',
      ].sort(),
    );
  });
});
