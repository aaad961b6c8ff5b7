import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  isScheduledWait,
  lastStateEntered,
  leadIdOf,
  maskSteps,
  pathOf,
  shownEvents,
  stepsOf,
} from '#console/runs.ts';

let id = 0;
const at = (s: number) => new Date(Date.UTC(2026, 10, 27, 10, 0, s));
const entered = (name: string, type = 'Task', input: unknown = {}): HistoryEvent => ({
  id: ++id,
  type: `${type}StateEntered` as HistoryEvent['type'],
  timestamp: at(id),
  stateEnteredEventDetails: { name, input: JSON.stringify(input) },
});
const exited = (name: string, type = 'Task', output: unknown = {}): HistoryEvent => ({
  id: ++id,
  type: `${type}StateExited` as HistoryEvent['type'],
  timestamp: at(id),
  stateExitedEventDetails: { name, output: JSON.stringify(output) },
});
const event = (type: string, details: Record<string, unknown> = {}): HistoryEvent =>
  ({ id: ++id, type, timestamp: at(id), ...details }) as HistoryEvent;

describe('console: steps and path from a history', () => {
  it('turns entered/exited pairs into steps with input, output and timing', () => {
    const lead = { email: 'ada@example.org' };
    const steps = stepsOf([
      event('ExecutionStarted'),
      entered('Capture & score lead', 'Task', { lead }),
      exited('Capture & score lead', 'Task', { lead, capture: { route: 'nurture' } }),
      entered('Route lead', 'Choice'),
      exited('Route lead', 'Choice'),
      entered('Nurture'),
    ]);
    expect(steps.map((s) => [s.state, s.type, s.status])).toEqual([
      ['Capture & score lead', 'Task', 'succeeded'],
      ['Route lead', 'Choice', 'succeeded'],
      ['Nurture', 'Task', 'running'],
    ]);
    expect(JSON.parse(String(steps[0]?.output)).capture.route).toBe('nurture');
    expect(steps[0]?.exitedAt).toBeDefined();
    expect(JSON.parse(String(maskSteps(steps)[0]?.input)).lead.email).toBe('a•••@e•••.org');
  });

  it('marks a state left through a Catch as caught, with the error that was caught', () => {
    const steps = stepsOf([
      entered('Wait for a signal or the next send'),
      event('TaskTimedOut', {
        taskTimedOutEventDetails: { error: 'States.Timeout', cause: 'Task timed out' },
      }),
      entered('Nurture'),
    ]);
    expect(steps[0]).toMatchObject({ status: 'caught', error: 'States.Timeout', failures: 1 });
    expect(steps[1]?.status).toBe('running');
  });

  it('tells a failure caught by a Catch (AWS: exited after it) from one retried (an attempt after it)', () => {
    const caught = stepsOf([
      entered('Await rep acceptance'),
      event('TaskTimedOut', { taskTimedOutEventDetails: { error: 'States.Timeout' } }),
      exited('Await rep acceptance'),
      entered('Reassignments left?', 'Choice'),
    ]);
    expect(caught[0]).toMatchObject({ status: 'caught', error: 'States.Timeout' });
    const retried = stepsOf([
      entered('Assign rep'),
      event('TaskFailed', { taskFailedEventDetails: { error: 'TransientError' } }),
      event('TaskScheduled'),
      event('TaskSucceeded'),
      exited('Assign rep'),
    ]);
    expect(retried[0]).toMatchObject({ status: 'succeeded', failures: 1 });
  });

  it('locally (no attempt events), calls a failure caught only when a Catch took it to the next state', () => {
    const definition = {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Next: 'Nurture',
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Nurture' }],
        },
        Nurture: { Type: 'Task', End: true },
      },
    };
    const timedOut = [
      entered('Wait'),
      event('TaskTimedOut', { taskTimedOutEventDetails: { error: 'States.Timeout' } }),
      exited('Wait'),
      entered('Nurture'),
    ];
    expect(stepsOf(timedOut, definition)[0]?.status).toBe('caught');
    const retried = [
      entered('Wait'),
      event('TaskFailed', { taskFailedEventDetails: { error: 'TransientError' } }),
      exited('Wait'),
      entered('Nurture'),
    ];
    expect(stepsOf(retried, definition)[0]).toMatchObject({ status: 'succeeded', failures: 1 });
  });

  it('marks the state a run failed or was stopped in, and counts retried failures', () => {
    const failed = stepsOf([
      entered('Assign rep'),
      event('TaskFailed', { taskFailedEventDetails: { error: 'TransientError', cause: 'busy' } }),
      event('TaskFailed', { taskFailedEventDetails: { error: 'Boom', cause: 'for ada@example.org' } }),
      event('ExecutionFailed', {
        executionFailedEventDetails: { error: 'Boom', cause: 'for ada@example.org' },
      }),
    ]);
    expect(failed[0]).toMatchObject({ status: 'failed', failures: 2, error: 'Boom' });
    expect(maskSteps(failed)[0]?.cause).toBe('for a•••@e•••.org');
    const stopped = stepsOf([entered('Await rep acceptance'), event('ExecutionAborted')]);
    expect(stopped[0]?.status).toBe('aborted');
  });

  it('counts visits and the edges followed, loops included, and names the current state', () => {
    const steps = stepsOf([
      entered('Nurture'),
      exited('Nurture'),
      entered('Next?', 'Choice'),
      exited('Next?', 'Choice'),
      entered('Wait'),
      entered('Nurture'),
      exited('Nurture'),
      entered('Next?', 'Choice'),
      exited('Next?', 'Choice'),
      entered('Wait'),
    ]);
    const path = pathOf(steps);
    expect(path.visits).toEqual({ Nurture: 2, 'Next?': 2, Wait: 2 });
    expect(path.transitions).toContainEqual({ from: 'Wait', to: 'Nurture', count: 1 });
    expect(path.transitions).toContainEqual({ from: 'Nurture', to: 'Next?', count: 2 });
    expect(path.current).toBe('Wait');
  });

  it('reads the current state from a newest-first history page', () => {
    expect(
      lastStateEntered([event('TaskSubmitted'), entered('Await deal outcome'), entered('Rep accepted?')]),
    ).toBe('Await deal outcome');
    expect(lastStateEntered([event('ExecutionStarted')])).toBeUndefined();
  });

  it('masks the JSON in event details unless revealed', () => {
    const events = [entered('Capture & score lead', 'Task', { lead: { firstName: 'Ada' } })];
    const [masked] = shownEvents(events, false);
    expect(JSON.parse(String(masked?.details?.input)).lead.firstName).toBe('A•••');
    expect(masked).toMatchObject({ state: 'Capture & score lead', type: 'TaskStateEntered' });
    const [shown] = shownEvents(events, true);
    expect(JSON.parse(String(shown?.details?.input)).lead.firstName).toBe('Ada');
  });

  it('knows a scheduled token wait (TimeoutSecondsPath) from other states, and lead ids from run names', () => {
    const definition = {
      StartAt: 'Wait',
      States: {
        Wait: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          TimeoutSecondsPath: '$.nurture.waitSeconds',
        },
        Await: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          TimeoutSeconds: 60,
        },
      },
    };
    expect(isScheduledWait(definition, 'Wait')).toBe(true);
    expect(isScheduledWait(definition, 'Await')).toBe(false);
    expect(isScheduledWait(definition, undefined)).toBe(false);
    expect(leadIdOf('ld-a7daacb6626b62bfbd6f-demo-request-20261127')).toBe('ld-a7daacb6626b62bfbd6f');
    expect(leadIdOf('twice')).toBeUndefined();
  });
});
