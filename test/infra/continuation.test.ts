// Runs that wait a year (docs/architecture.md): the synthesized definition has a top-level TimeoutSeconds
// with a meaning, and a continuation path from every wait that loops into a new execution of the machine.
import { Duration } from 'aws-cdk-lib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { CONTINUE_AFTER } from '#functions/platform/continuation.ts';
import { type AslDefinition, type CfnTemplate, loadTemplate, stateMachinesOf } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';
import { runTimeout } from '#workflows/lead-to-close.ts';

let template: CfnTemplate;
let def: AslDefinition;
beforeAll(() => {
  template = loadTemplate(inject('cdkOut'));
  const machine = stateMachinesOf(template, { region: 'us-east-1', account: '000000000000' })[0];
  if (!machine) throw new Error('no state machine');
  def = machine.definition;
});

type Choice = {
  Choices: { And?: { Variable: string; StringEquals?: string }[]; Next: string }[];
  Default: string;
};

describe('runs that wait a year', () => {
  it('times the execution out just past the longest span one execution of a chain may run', () => {
    const timeout = Number((def as { TimeoutSeconds?: number }).TimeoutSeconds);
    const sla = config.reps.sla;
    const longestDelay = Math.max(...config.nurture.steps.map((s) => s.delayDays));
    const span =
      CONTINUE_AFTER.days * 86_400 +
      (longestDelay + 4) * 86_400 +
      (sla.maxReassignments + 1) * sla.acceptWithinHours * 3600 +
      sla.closeWithinDays * 86_400;
    expect(timeout).toBeGreaterThan(span);
    expect(timeout).toBeLessThanOrEqual(span + 86_400);
    // Below a year: a stuck run is found (timed out, recorded, its rep freed) in months, not a year.
    expect(timeout).toBeLessThan(365 * 86_400);
    expect(
      runTimeout({
        continueAfter: { loops: 1, days: 1 },
        longestNurtureWait: Duration.days(1),
        maxReassignments: 0,
        acceptWithin: Duration.hours(24),
        closeWithin: Duration.days(1),
      } as Parameters<typeof runTimeout>[0]).toDays(),
    ).toBe(5);
  });

  it('enters every execution at "New or continued run?": a continued one goes back to the wait it left', () => {
    expect(def.StartAt).toBe('New or continued run?');
    const start = def.States['New or continued run?'] as unknown as Choice;
    const routes = Object.fromEntries(
      start.Choices.map((c) => [c.And?.find((x) => x.StringEquals)?.StringEquals, c.Next]),
    );
    expect(routes).toEqual({ nurture: 'Nurture', assign: 'Assign rep', reassign: 'Reassign rep' });
    // Guarded by IsPresent: a new lead's input has no `continued`, and goes on to capture.
    for (const c of start.Choices)
      expect(c.And?.[0]).toMatchObject({ Variable: '$.continued.at', IsPresent: true });
    expect(start.Default).toBe('Capture & score lead');
  });

  it('continues from every wait that loops, and ends the old execution Succeeded', () => {
    for (const name of ['Wait for a signal or the next send', 'Assign rep', 'Reassign rep']) {
      const catches = (def.States[name]?.Catch ?? []) as {
        ErrorEquals: string[];
        Next: string;
        ResultPath: string;
      }[];
      expect(catches, name).toContainEqual({
        ErrorEquals: ['ContinueAsNew'],
        Next: 'Continue as a new run',
        ResultPath: '$.continuing',
      });
    }
    const step = def.States['Continue as a new run'] as {
      Parameters: Record<string, string>;
      Next: string;
      ResultPath: string;
    };
    expect(step.Parameters).toMatchObject({
      'executionName.$': '$$.Execution.Name',
      'stateMachineArn.$': '$$.StateMachine.Id',
      'at.$': '$.continuing.Cause',
      'state.$': '$',
    });
    expect(step.ResultPath).toBe('$.continuedAs');
    expect(def.States[step.Next]?.Type).toBe('Succeed');
    // The waits that decide get when their execution started.
    for (const name of ['Wait for a signal or the next send', 'Assign rep', 'Reassign rep'])
      expect(
        (def.States[name]?.Parameters as { Payload?: Record<string, string> } | undefined)?.Payload,
        name,
      ).toMatchObject({
        'startedAt.$': '$$.Execution.StartTime',
      });
  });

  it('sets the continuation limits on the steps that decide, and nowhere else', () => {
    const withLimits = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .filter(
        (r) =>
          (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables
            ?.CONTINUE_AFTER_LOOPS !== undefined,
      )
      .map((r) => String(r.Metadata?.['aws:cdk:path']).split('/')[1])
      .sort();
    expect(withLimits).toEqual(['AssignRep', 'AwaitSignal']);
  });
});
