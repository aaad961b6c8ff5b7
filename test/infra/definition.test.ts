import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type AslDefinition, loadTemplate, stateMachinesOf } from '../../local/template.ts';
import { config } from '../fixtures/config.ts';

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

  it('catches every error of every Task into a recorded failure (or a named timeout path)', () => {
    for (const [name, s] of tasks()) {
      const catches = (s.Catch as { ErrorEquals: string[]; Next: string }[] | undefined) ?? [];
      const all = catches.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(all?.Next, name).toBe(name === 'Record failure' ? 'Lead processing failed' : 'Record failure');
    }
  });

  it('gives every Task an explicit timeout, the rep SLA on acceptance', () => {
    for (const [name, s] of tasks()) expect(s.TimeoutSeconds, name).toBeGreaterThan(0);
    expect(def.States['Await rep acceptance']?.TimeoutSeconds).toBe(config.reps.sla.acceptWithinHours * 3600);
    expect(def.States['Await deal outcome']?.TimeoutSeconds).toBe(config.reps.sla.closeWithinDays * 86_400);
    expect(def.States['Await rep acceptance']?.Resource).toMatch(/waitForTaskToken$/);
  });

  it('waits for the next nurture step by a timestamp from the input', () => {
    expect(def.States['Wait until next nurture step']).toMatchObject({
      Type: 'Wait',
      TimestampPath: '$.nurture.nextSendAt',
    });
  });

  it('ends every path in an explicit Succeed or Fail', () => {
    const ends = states().filter(([, s]) => s.End === true || s.Type === 'Succeed' || s.Type === 'Fail');
    for (const [name, s] of ends) expect(['Succeed', 'Fail'], name).toContain(s.Type);
    expect(ends.map(([n]) => n).sort()).toEqual(
      [
        'Deal closed',
        'Disqualified',
        'Lead processing failed',
        'Merged into active lead',
        'Not emailable (no marketing consent)',
        'Nurtured (stays a marketing lead)',
        'Unsubscribed',
      ].sort(),
    );
  });
});
