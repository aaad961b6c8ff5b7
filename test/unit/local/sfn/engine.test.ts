import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '#local/long-timers.ts';
import { compressedWallClock } from '#local/clock.ts';
import { LocalStepFunctions, SfnError } from '#local/sfn/api.ts';
import type { AslDefinition } from '#local/template.ts';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:Worker';
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Probe';

function engine(
  definition: AslDefinition,
  call: (arn: string, payload: unknown) => Promise<unknown>,
  timeScale = 1,
) {
  const dataDir = mkdtempSync(join(tmpdir(), 'handoff-sfn-'));
  return new LocalStepFunctions(
    [{ arn: ARN, name: 'Probe', definition, createdAt: Date.now() }],
    { call },
    {
      dataDir,
      clock: compressedWallClock(timeScale),
      region: 'us-east-1',
      account: '000000000000',
    },
  );
}

const untilDone = async (sfn: LocalStepFunctions, executionArn: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const d = sfn.describeExecution({ executionArn });
    if (d.status !== 'RUNNING') return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  return sfn.describeExecution({ executionArn });
};

afterEach(() => {
  vi.useRealTimers();
});

describe('local Step Functions engine: where aws-local-stepfunctions differs from AWS', () => {
  const slowTask: AslDefinition = {
    StartAt: 'Slow',
    States: { Slow: { Type: 'Task', Resource: FN, End: true } },
  };

  it('the library alone times a Task without TimeoutSeconds out at 60 s (pinned)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const run = new StateMachine(slowTask as never).run(
      {},
      {
        overrides: { taskResourceLocalHandlers: { Slow: () => new Promise(() => undefined) } },
      },
    );
    const outcome = run.result.then(
      () => 'succeeded',
      (e: { cause?: { name?: string } }) => e.cause?.name,
    );
    await vi.advanceTimersByTimeAsync(61_000);
    expect(await outcome).toBe('States.Timeout');
  });

  it('the local engine keeps AWS’s default: a Task without TimeoutSeconds gets 99999999 s, not 60 s', async () => {
    const sfn = engine(slowTask, async () => ({ ok: true }));
    const prepared = sfn.prepare(slowTask, 'Slow');
    expect(prepared.States.Slow?.TimeoutSeconds).toBe(99_999_999);
    // …and such a timer does not fire early (local/long-timers.ts; see test/unit/local/long-timers.test.ts).
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'slow', input: '{}' });
    expect((await untilDone(sfn, executionArn)).status).toBe('SUCCEEDED');
  });

  it('does not time a plain Lambda task while it waits in the local queue: the function’s own timeout bounds it', () => {
    const sfn = engine(slowTask, async () => ({}));
    const def: AslDefinition = {
      StartAt: 'L',
      States: {
        L: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:F' },
          TimeoutSeconds: 30,
          Next: 'T',
        },
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          TimeoutSeconds: 60,
          End: true,
        },
      },
    };
    const prepared = sfn.prepare(def, 'L');
    expect(prepared.States.L?.TimeoutSeconds).toBe(99_999_999);
    expect(prepared.States.T?.TimeoutSeconds).toBe(99_999_999); // TaskTokens times token tasks, scaled
  });

  it('turns Waits into locally-timed sleeps and drops the library-only heartbeat field', () => {
    const sfn = engine(slowTask, async () => ({}));
    const def: AslDefinition = {
      StartAt: 'W',
      States: {
        W: { Type: 'Wait', TimestampPath: '$.at', Next: 'P' },
        P: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          HeartbeatSeconds: 5,
          TimeoutSeconds: 60,
          End: true,
        },
      },
    };
    const prepared = sfn.prepare(def, 'W');
    expect(prepared.States.W).toMatchObject({ Type: 'Task', Next: 'P' });
    expect(prepared.States.W).not.toHaveProperty('TimestampPath');
    expect(prepared.States.P).toMatchObject({ TimeoutSeconds: 99_999_999 });
    expect(prepared.States.P).not.toHaveProperty('HeartbeatSeconds');
  });

  const tokenTask = (extra: Record<string, unknown>): AslDefinition => ({
    StartAt: 'Park',
    States: {
      Park: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: FN, Payload: { 'taskToken.$': '$$.Task.Token' } },
        ...extra,
        End: true,
      },
    },
  });

  it('times the execution out at its own TimeoutSeconds on the stack’s clock (TIMED_OUT, States.Timeout), wherever it waits', async () => {
    // A year-long Wait under a 30-day execution timeout, at a day per 10 ms: the execution ends in ~0.3 s.
    const definition: AslDefinition = {
      StartAt: 'Long wait',
      TimeoutSeconds: 30 * 86_400,
      States: { 'Long wait': { Type: 'Wait', Seconds: 365 * 86_400, End: true } },
    };
    const sfn = engine(definition, async () => ({}), 8_640_000);
    const started = Date.now();
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'year', input: '{}' });
    const done = await untilDone(sfn, executionArn);
    expect(done).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    // 30 days at this scale is 0.3 real s; the year-long Wait would have been 3.65 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(sfn.getExecutionHistory({ executionArn }).events.at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('enforces HeartbeatSeconds on token tasks (the library ignores it)', async () => {
    const sfn = engine(tokenTask({ HeartbeatSeconds: 3600 }), async () => ({}), 36_000);
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'hb', input: '{}' });
    const done = await untilDone(sfn, executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'States.HeartbeatTimeout' });
  });

  it('scales a token task timeout by the time scale and records TaskTimedOut', async () => {
    const sfn = engine(tokenTask({ TimeoutSeconds: 86_400 }), async () => ({}), 864_000);
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'to', input: '{}' });
    const started = Date.now();
    expect(await untilDone(sfn, executionArn)).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    const types = sfn.getExecutionHistory({ executionArn }).events.map((e) => e.type);
    expect(types).toContain('TaskTimedOut');
  });

  it('reads TimeoutSecondsPath from the state’s input (scaled), and a callback before it wins', async () => {
    const tokens: string[] = [];
    const sfn = engine(
      tokenTask({ TimeoutSecondsPath: '$.wait.seconds' }),
      async (_, p) => void tokens.push((p as { taskToken: string }).taskToken),
      864_000,
    );
    // A day, scaled to 0.1 s: timed out.
    const short = await sfn.startExecution({
      stateMachineArn: ARN,
      name: 'day',
      input: '{"wait":{"seconds":86400}}',
    });
    expect(await untilDone(sfn, short.executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'States.Timeout',
    });
    // A year, scaled to 36 s: still parked when the callback comes.
    const long = await sfn.startExecution({
      stateMachineArn: ARN,
      name: 'year',
      input: '{"wait":{"seconds":31536000}}',
    });
    await vi.waitFor(() => expect(tokens).toHaveLength(2));
    await new Promise((r) => setTimeout(r, 200));
    expect(sfn.describeExecution({ executionArn: long.executionArn }).status).toBe('RUNNING');
    await sfn.sendTaskSuccess({ taskToken: tokens[1], output: '{"signal":"click"}' });
    expect(await untilDone(sfn, long.executionArn)).toMatchObject({ status: 'SUCCEEDED' });
    // DescribeStateMachine shows the definition as deployed (the engine times the task, not the library).
    expect(sfn.describeStateMachine({ stateMachineArn: ARN }).definition).toContain('TimeoutSecondsPath');
  });

  it('fails a token task whose TimeoutSecondsPath selects no positive integer (States.Runtime, as AWS)', async () => {
    const invoked: unknown[] = [];
    const sfn = engine(tokenTask({ TimeoutSecondsPath: '$.wait.seconds' }), async (_, p) => {
      invoked.push(p);
    });
    for (const [name, input] of [
      ['missing', '{}'],
      ['zero', '{"wait":{"seconds":0}}'],
      ['fraction', '{"wait":{"seconds":1.5}}'],
      ['text', '{"wait":{"seconds":"60"}}'],
      ['too-long', '{"wait":{"seconds":100000000}}'],
    ]) {
      const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name, input });
      const done = await untilDone(sfn, executionArn);
      expect(done, name).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
      expect(done.cause, name).toContain('TimeoutSecondsPath $.wait.seconds');
    }
    expect(invoked).toEqual([]);
  });

  it('gives every task token a fresh value and resumes the run with SendTaskSuccess', async () => {
    const tokens: string[] = [];
    const sfn = engine(
      tokenTask({}),
      async (_, p) => void tokens.push((p as { taskToken: string }).taskToken),
    );
    const a = await sfn.startExecution({ stateMachineArn: ARN, name: 'a', input: '{}' });
    const b = await sfn.startExecution({ stateMachineArn: ARN, name: 'b', input: '{}' });
    await vi.waitFor(() => expect(tokens).toHaveLength(2));
    expect(tokens[0]).not.toBe(tokens[1]);
    await sfn.sendTaskSuccess({ taskToken: tokens[0], output: '{"done":1}' });
    expect(await untilDone(sfn, a.executionArn)).toMatchObject({ status: 'SUCCEEDED', output: '{"done":1}' });
    await expect(sfn.sendTaskSuccess({ taskToken: tokens[0], output: '{}' })).rejects.toThrow(SfnError);
    await sfn.stopExecution({ executionArn: b.executionArn });
    expect(sfn.describeExecution({ executionArn: b.executionArn }).status).toBe('ABORTED');
  });

  it('expireTask times a parked task out now (States.Timeout, TaskTimedOut) and forgets its token', async () => {
    const tokens: string[] = [];
    const sfn = engine(
      tokenTask({ TimeoutSeconds: 86_400 }),
      async (_, p) => void tokens.push((p as { taskToken: string }).taskToken),
    );
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'expire', input: '{}' });
    await vi.waitFor(() => expect(tokens).toHaveLength(1));
    expect(await sfn.expireTask({ taskToken: tokens[0] })).toEqual({});
    expect(await untilDone(sfn, executionArn)).toMatchObject({ status: 'FAILED', error: 'States.Timeout' });
    const types = sfn.getExecutionHistory({ executionArn }).events.map((e) => e.type);
    expect(types).toContain('TaskTimedOut');
    await expect(sfn.expireTask({ taskToken: tokens[0] })).rejects.toThrow(/Task Does Not Exist/);
    await expect(sfn.sendTaskSuccess({ taskToken: tokens[0], output: '{}' })).rejects.toThrow(SfnError);
    // IAM still knows whose token it was: a late callback is authorized against its state machine and
    // answered TaskTimedOut/TaskDoesNotExist, as in AWS, not AccessDenied on `*`.
    expect(sfn.executionOfToken(String(tokens[0]))).toBe(executionArn);
    expect(sfn.executionOfToken('never-issued')).toBeUndefined();
  });

  it('is idempotent on the execution name for the same input, and refuses another input', async () => {
    const sfn = engine(tokenTask({}), async () => ({}));
    const first = await sfn.startExecution({ stateMachineArn: ARN, name: 'same', input: '{"x":1}' });
    expect(
      (await sfn.startExecution({ stateMachineArn: ARN, name: 'same', input: '{"x":1}' })).executionArn,
    ).toBe(first.executionArn);
    await expect(
      sfn.startExecution({ stateMachineArn: ARN, name: 'same', input: '{"x":2}' }),
    ).rejects.toThrow(/Execution Already Exists/);
    expect(sfn.listExecutions({ stateMachineArn: ARN }).executions).toHaveLength(1);
  });
});
