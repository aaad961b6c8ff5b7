import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { sfnRuns } from '#functions/platform/runs.ts';

const sfn = mockClient(SFNClient);
const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Handoff';
const runs = sfnRuns({ stateMachineArn: ARN });
afterEach(() => sfn.reset());

describe('sfnRuns (Runs on Step Functions)', () => {
  it('resumes and fails waiting tasks; a task that is gone answers false', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    expect(await runs.resume('tok-1', { signal: 'click' })).toBe(true);
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok-1',
      output: '{"signal":"click"}',
    });
    expect(await runs.fail('tok-2', 'CapacityFreed', 'room')).toBe(true);
    sfn.on(SendTaskSuccessCommand).rejects(new TaskDoesNotExist({ message: 'gone', $metadata: {} }));
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'late', $metadata: {} }));
    expect(await runs.resume('tok-1', {})).toBe(false);
    expect(await runs.fail('tok-2', 'CapacityFreed', 'room')).toBe(false);
  });

  it('throws anything else, so the caller can undo or retry', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new Error('throttled'));
    await expect(runs.resume('tok-1', {})).rejects.toThrow('throttled');
  });

  it('starts a run by name on its state machine; a name taken with another input answers false', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    expect(await runs.start('ld-1-demo-2026-11-25', { lead: { id: 'ld-1' } })).toBe(true);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: 'ld-1-demo-2026-11-25',
      input: '{"lead":{"id":"ld-1"}}',
    });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await runs.start('ld-1-demo-2026-11-25', {})).toBe(false);
  });

  it('stops a run by name; no such run answers false', async () => {
    sfn.on(StopExecutionCommand).resolves({});
    expect(await runs.stop('run-1', 'Erased', 'erased')).toBe(true);
    expect(sfn.commandCalls(StopExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Handoff:run-1',
      error: 'Erased',
      cause: 'erased',
    });
    sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'no', $metadata: {} }));
    expect(await runs.stop('run-1', 'Erased', 'erased')).toBe(false);
  });

  it('without a state machine, reaches waiting tasks only', () => {
    expect(Object.keys(sfnRuns()).sort()).toEqual(['fail', 'resume']);
  });
});
