import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ExecutionNotRedrivable,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '#local/long-timers.ts';
import { close, listen } from '#local/aws-json.ts';
import { compressedWallClock } from '#local/clock.ts';
import type { PutEventsEntry } from '#local/events.ts';
import { type EngineOptions, LocalStepFunctions, SfnError, TokenBucket } from '#local/sfn/api.ts';
import { sfnHandler } from '#local/sfn/http.ts';
import type { AslDefinition } from '#local/template.ts';
import { edgeServer } from '#serve/edge.ts';

const FN = 'arn:aws:lambda:us-east-1:000000000000:function:Step';
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Probe';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

// A → B → C; B fails (no Retry, no Catch) while `broken` is true.
const definition: AslDefinition = {
  StartAt: 'A',
  States: {
    A: { Type: 'Task', Resource: FN, Parameters: { step: 'A', 'n.$': '$.n' }, ResultPath: '$.a', Next: 'B' },
    B: { Type: 'Task', Resource: FN, Parameters: { step: 'B', 'n.$': '$.n' }, ResultPath: '$.b', Next: 'C' },
    C: { Type: 'Task', Resource: FN, Parameters: { step: 'C', 'n.$': '$.n' }, ResultPath: '$.c', End: true },
  },
};

function engine(opts: Partial<EngineOptions> = {}) {
  const calls: { step: string; n: number }[] = [];
  const events: PutEventsEntry[] = [];
  // `hold`: step C waits for it, so a run stays RUNNING while a test looks at it.
  const state: { broken: boolean; hold?: Promise<void> } = { broken: true };
  const sfn = new LocalStepFunctions(
    [{ arn: ARN, name: 'Probe', definition, createdAt: Date.now() }],
    {
      async call(_arn, payload) {
        const p = payload as { step: string; n: number };
        calls.push(p);
        if (p.step === 'B' && state.broken)
          throw Object.assign(new Error('B is down'), { name: 'DownstreamError' });
        if (p.step === 'C') await state.hold;
        return { done: p.step };
      },
    },
    {
      dataDir: mkdtempSync(join(tmpdir(), 'handoff-redrive-')),
      clock: compressedWallClock(1),
      region: 'us-east-1',
      account: '000000000000',
      events: { putEvents: (e) => void events.push(...e) },
      ...opts,
    },
  );
  return { sfn, calls, events, state };
}

/** Holds step C until the returned function is called. */
function holdC(state: { hold?: Promise<void> }): () => void {
  let release: () => void = () => undefined;
  state.hold = new Promise<void>((r) => {
    release = r;
  });
  return release;
}

const settled = async (sfn: LocalStepFunctions, executionArn: string) =>
  sfn.waitForExecution({ executionArn });
const history = (sfn: LocalStepFunctions, executionArn: string) =>
  sfn.getExecutionHistory({ executionArn, maxResults: 1000 }).events;

let stopAfter: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stopAfter?.();
  stopAfter = undefined;
});

describe('RedriveExecution on the local engine', () => {
  it('resumes a failed run at the failed state with the input it had, and it succeeds', async () => {
    const { sfn, calls, state } = engine();
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'r1', input: '{"n":7}' });
    expect(await settled(sfn, executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'DownstreamError',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });
    await expect(sfn.startExecution({ stateMachineArn: ARN, name: 'r1', input: '{"n":7}' })).rejects.toThrow(
      /Already Exists/,
    );
    state.broken = false;
    const release = holdC(state);
    const { redriveDate } = await sfn.redriveExecution({ executionArn });
    expect(sfn.describeExecution({ executionArn }).status).toBe('RUNNING');
    release();
    const done = await settled(sfn, executionArn);
    expect(done).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1, redriveDate });
    expect(done).not.toHaveProperty('error');
    // A ran once; B failed, then ran again on redrive with the same input; C after it.
    expect(calls.map((c) => c.step)).toEqual(['A', 'B', 'B', 'C']);
    expect(JSON.parse(String(done.output))).toEqual({
      n: 7,
      a: { done: 'A' },
      b: { done: 'B' },
      c: { done: 'C' },
    });
    const types = history(sfn, executionArn).map((e) => e.type);
    const redriven = types.indexOf('ExecutionRedriven');
    expect(types.slice(redriven - 1, redriven + 2)).toEqual([
      'ExecutionFailed',
      'ExecutionRedriven',
      'TaskStateEntered',
    ]);
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(history(sfn, executionArn)[redriven]).toMatchObject({
      executionRedrivenEventDetails: { redriveCount: 1 },
    });
    expect(sfn.listExecutions({ stateMachineArn: ARN, redriveFilter: 'REDRIVEN' }).executions).toHaveLength(
      1,
    );
    expect(
      sfn.listExecutions({ stateMachineArn: ARN, redriveFilter: 'NOT_REDRIVEN' }).executions,
    ).toHaveLength(0);
  });

  it('refuses RUNNING and SUCCEEDED executions with ExecutionNotRedrivable, and redrives ABORTED ones', async () => {
    const { sfn, calls, state } = engine();
    state.broken = false;
    let release = holdC(state);
    const ok = await sfn.startExecution({ stateMachineArn: ARN, name: 'ok', input: '{"n":1}' });
    await expect(sfn.redriveExecution({ executionArn: ok.executionArn })).rejects.toThrow(
      /RUNNING and cannot be redriven/,
    );
    release();
    await settled(sfn, ok.executionArn);
    await expect(sfn.redriveExecution(ok)).rejects.toThrow(SfnError);
    expect(sfn.describeExecution(ok)).toMatchObject({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
    });
    calls.length = 0;
    release = holdC(state);
    const stopped = await sfn.startExecution({ stateMachineArn: ARN, name: 'stopped', input: '{"n":2}' });
    await sfn.stopExecution(stopped);
    expect(sfn.describeExecution(stopped)).toMatchObject({ status: 'ABORTED', redriveStatus: 'REDRIVABLE' });
    await sfn.redriveExecution(stopped);
    release();
    expect(await settled(sfn, stopped.executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  });

  it('answers a repeated client token with the same redrive instead of a second one', async () => {
    const { sfn, state } = engine();
    const { executionArn } = await sfn.startExecution({
      stateMachineArn: ARN,
      name: 'tok',
      input: '{"n":3}',
    });
    await settled(sfn, executionArn);
    state.broken = false;
    const release = holdC(state);
    const first = await sfn.redriveExecution({ executionArn, clientToken: 'abc' });
    expect(await sfn.redriveExecution({ executionArn, clientToken: 'abc' })).toEqual(first);
    await expect(sfn.redriveExecution({ executionArn, clientToken: 'other' })).rejects.toThrow(/RUNNING/);
    release();
    expect(await settled(sfn, executionArn)).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
  });

  it('emits a Step Functions Execution Status Change event on every status change, as AWS sends it', async () => {
    const { sfn, events, state } = engine();
    const { executionArn } = await sfn.startExecution({ stateMachineArn: ARN, name: 'ev', input: '{"n":4}' });
    await settled(sfn, executionArn);
    state.broken = false;
    await sfn.redriveExecution({ executionArn });
    await settled(sfn, executionArn);
    expect(events.map((e) => JSON.parse(String(e.Detail)).status)).toEqual([
      'RUNNING',
      'FAILED',
      'RUNNING',
      'SUCCEEDED',
    ]);
    expect(
      events.every(
        (e) => e.Source === 'aws.states' && e.DetailType === 'Step Functions Execution Status Change',
      ),
    ).toBe(true);
    const failed = JSON.parse(String(events[1]?.Detail));
    expect(events[1]?.Resources).toEqual([executionArn]);
    expect(failed).toMatchObject({
      executionArn,
      stateMachineArn: ARN,
      name: 'ev',
      status: 'FAILED',
      input: '{"n":4}',
      output: null,
      error: 'DownstreamError',
      cause: 'B is down',
      redriveCount: 0,
    });
    expect(typeof failed.startDate).toBe('number');
    expect(failed.stopDate).toBeGreaterThanOrEqual(failed.startDate);
    const redriven = JSON.parse(String(events[2]?.Detail));
    expect(redriven).toMatchObject({ status: 'RUNNING', stopDate: null, redriveCount: 1 });
    expect(JSON.parse(JSON.parse(String(events[3]?.Detail)).output)).toMatchObject({ c: { done: 'C' } });
  });
});

describe('StartExecution throttling', () => {
  it('a token bucket allows the burst, then the rate', () => {
    let now = 0;
    const bucket = new TokenBucket({ perSecond: 10, burst: 5 }, () => now);
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([
      true,
      true,
      true,
      true,
      true,
      false,
      false,
    ]);
    now += 100; // one token back
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    now += 10_000; // never more than the burst
    expect(Array.from({ length: 6 }, () => bucket.take()).filter(Boolean)).toHaveLength(5);
  });

  it('accepts StartExecution while the workflow is busy: the runs wait to start, in order, and start once it has room', async () => {
    let busy = true;
    const { sfn, calls } = engine({ busy: () => busy });
    stopAfter = () => sfn.shutdown();
    const started = await Promise.all(
      ['first', 'second', 'third'].map((name) =>
        sfn.startExecution({ stateMachineArn: ARN, name, input: '{"n":1}' }),
      ),
    );
    expect(started.map((s) => s.executionArn.split(':').at(-1))).toEqual(['first', 'second', 'third']);
    expect(sfn.waitingToStart).toBe(3);
    await new Promise((r) => setTimeout(r, 100));
    // Accepted and stored (RUNNING, ExecutionStarted only), but no state has run yet.
    expect(calls).toHaveLength(0);
    expect(sfn.list().map((r) => [r.name, r.status])).toEqual([
      ['first', 'RUNNING'],
      ['second', 'RUNNING'],
      ['third', 'RUNNING'],
    ]);
    // A run started while others wait queues behind them, even if the machine has room by then.
    busy = false;
    await sfn.startExecution({ stateMachineArn: ARN, name: 'fourth', input: '{"n":1}' });
    await vi.waitFor(() => expect(sfn.waitingToStart).toBe(0));
    await vi.waitFor(() => expect(calls.filter((c) => c.step === 'A')).toHaveLength(4));
  });

  it('paces starts by the admission bucket: a burst accepted at once starts a few at a time, none refused', async () => {
    const { sfn, calls } = engine({ admitRate: { perSecond: 2, burst: 2 } });
    stopAfter = () => sfn.shutdown();
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
    await Promise.all(
      names.map((name) => sfn.startExecution({ stateMachineArn: ARN, name, input: '{"n":1}' })),
    );
    // Two tokens: two runs started, four wait (RUNNING, stored), none refused.
    expect(sfn.waitingToStart).toBe(4);
    expect(sfn.list().map((r) => r.name)).toEqual(names);
    await vi.waitFor(() => expect(sfn.waitingToStart).toBe(0), { timeout: 5_000 });
    await vi.waitFor(() => expect(calls.filter((c) => c.step === 'A')).toHaveLength(6), { timeout: 5_000 });
  });

  it('answers ThrottlingException beyond the bucket, through the SDK after its retries, and RedriveExecution works over HTTP', async () => {
    const { sfn, state } = engine({ startRate: { perSecond: 0.001, burst: 2 } });
    const edge = edgeServer('sfn', () => undefined);
    edge.open(sfnHandler(sfn, (_req, res) => void res.writeHead(404).end()));
    const port = await listen(edge.server, 0);
    stopAfter = async () => {
      await sfn.shutdown();
      await close(edge.server);
    };
    const client = new SFNClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials });
    const start = (name: string) =>
      client.send(new StartExecutionCommand({ stateMachineArn: ARN, name, input: '{"n":5}' }));
    const { executionArn } = await start('one');
    await start('two');
    const err = await start('three').catch((e: unknown) => e);
    // client-sfn has no modeled ThrottlingException: its SFNServiceException carries the name, and it retries it.
    expect(err).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    expect((err as { $metadata: { attempts: number } }).$metadata.attempts).toBeGreaterThan(1);
    expect(sfn.list().map((r) => r.name)).toEqual(['one', 'two']);

    await sfn.waitForExecution({ executionArn });
    state.broken = false;
    await expect(
      client.send(new RedriveExecutionCommand({ executionArn: `${executionArn}-nope` })),
    ).rejects.toThrow(/Does Not Exist/);
    // Not an execution ARN at all: InvalidArn, as AWS answers.
    await expect(client.send(new RedriveExecutionCommand({ executionArn: 'arn:nope' }))).rejects.toThrow(
      /Invalid Arn/,
    );
    const { redriveDate } = await client.send(new RedriveExecutionCommand({ executionArn }));
    expect(redriveDate).toBeInstanceOf(Date);
    await expect(client.send(new RedriveExecutionCommand({ executionArn }))).rejects.toBeInstanceOf(
      ExecutionNotRedrivable,
    );
    const d = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(d).toMatchObject({ redriveCount: 1, redriveStatus: 'NOT_REDRIVABLE' });
    expect(d.redriveDate?.getTime()).toBe(redriveDate?.getTime());
    const { executions } = await client.send(new ListExecutionsCommand({ stateMachineArn: ARN }));
    expect(executions?.find((e) => e.name === 'one')?.redriveCount).toBe(1);
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(
      events?.find((e) => e.type === 'ExecutionRedriven')?.executionRedrivenEventDetails?.redriveCount,
    ).toBe(1);
  });
});
