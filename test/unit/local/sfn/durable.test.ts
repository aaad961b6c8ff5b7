// "A reply means stored" (docs/architecture.md, "Durability"): each write API of the local Step Functions engine resolves only once its
// change is on disk. A crash is played by copying the data folder the instant a reply resolves (what a
// SIGKILL then would leave) and starting a second engine on the copy, while the first keeps running.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '#local/long-timers.ts';
import { compressedWallClock } from '#local/clock.ts';
import { EventBus, type LocalRule } from '#local/events.ts';
import type { InvokeResult } from '#local/lambda-pool.ts';
import { type ExecutionRecord, LocalStepFunctions } from '#local/sfn/api.ts';
import type { AslDefinition } from '#local/template.ts';

const ACCOUNT = { region: 'us-east-1', account: '000000000000' };
const PARK = 'arn:aws:lambda:us-east-1:000000000000:function:Park';
const WORK = 'arn:aws:lambda:us-east-1:000000000000:function:Work';
const RECORD_FAILURE = 'arn:aws:lambda:us-east-1:000000000000:function:RecordFailure';
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Probe';

// Park (a token task; a failure or timeout is caught by Caught) → Work.
const definition: AslDefinition = {
  StartAt: 'Park',
  States: {
    Park: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: PARK, Payload: { 'taskToken.$': '$$.Task.Token' } },
      HeartbeatSeconds: 3600,
      ResultPath: '$.wake',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'Caught' }],
      Next: 'Work',
    },
    Work: { Type: 'Task', Resource: WORK, End: true },
    Caught: { Type: 'Task', Resource: WORK, End: true },
  },
};

type Behaviour = 'answer' | 'fail' | 'hang';
/**
 * A Lambda stand-in that records each call and answers, fails (`Down`) or never returns (the engine stays
 * where it is), as `behave` says for the function and its nth call.
 */
function functions(behave: (arn: string, nth: number) => Behaviour = () => 'answer') {
  const calls: { arn: string; payload: Record<string, unknown> }[] = [];
  return {
    calls,
    tokens: () => calls.filter((c) => c.arn === PARK).map((c) => String(c.payload.taskToken)),
    call: async (arn: string, payload: unknown) => {
      calls.push({ arn, payload: payload as Record<string, unknown> });
      const b = behave(arn, calls.filter((c) => c.arn === arn).length);
      if (b === 'hang') await new Promise(() => undefined);
      if (b === 'fail') throw Object.assign(new Error('down'), { name: 'Down' });
      return { done: arn.split(':').at(-1) };
    },
  };
}
const hang = (fn: string) => (arn: string) => (arn === fn ? 'hang' : 'answer');

const engines: LocalStepFunctions[] = [];
function engine(dataDir: string, fns: ReturnType<typeof functions>, events?: EventBus, def = definition) {
  const sfn = new LocalStepFunctions(
    [{ arn: ARN, name: 'Probe', definition: def, createdAt: Date.now() }],
    fns,
    { dataDir, clock: compressedWallClock(1), ...ACCOUNT, ...(events ? { events } : {}) },
  );
  engines.push(sfn);
  return sfn;
}
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.shutdown()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'handoff-durable-sfn-'));
  dirs.push(d);
  return d;
};
/** The data folder as a SIGKILL now would leave it. */
function crashCopy(dataDir: string): string {
  const copy = freshDir();
  cpSync(dataDir, copy, { recursive: true });
  return copy;
}
/** Runs `reply` and copies the data folder the instant it resolves. */
async function crashRightAfter<T>(dataDir: string, reply: Promise<T>): Promise<{ out: T; copy: string }> {
  return reply.then((out) => ({ out, copy: crashCopy(dataDir) }));
}
const onDisk = (dataDir: string, name: string) =>
  JSON.parse(readFileSync(join(dataDir, 'executions', `${name}.json`), 'utf8')) as ExecutionRecord;
const types = (sfn: LocalStepFunctions, executionArn: string) =>
  sfn.getExecutionHistory({ executionArn, maxResults: 1000 }).events.map((e) => e.type);

describe('local Step Functions: a write API answers once its change is durable', () => {
  it('StartExecution: a stack killed right after the reply has the run, and runs it once from its start', async () => {
    const dataDir = freshDir();
    const a = engine(
      dataDir,
      functions(() => 'hang'),
    );
    const { out, copy } = await crashRightAfter(
      dataDir,
      a.startExecution({ stateMachineArn: ARN, name: 'lead-1', input: '{"id":"lead-1"}' }),
    );
    const fns = functions();
    const b = engine(copy, fns);
    expect(b.resumeAll()).toBe(1);
    await vi.waitFor(() => expect(fns.tokens()).toHaveLength(1));
    await b.sendTaskSuccess({ taskToken: fns.tokens()[0], output: '{"signal":"demo"}' });
    expect(await b.waitForExecution(out)).toMatchObject({ status: 'SUCCEEDED' });
    const history = types(b, out.executionArn);
    expect(history.filter((t) => t === 'ExecutionStarted')).toHaveLength(1);
    expect(history.filter((t) => t === 'TaskStateEntered')).toHaveLength(2); // Park, Work: once each
  });

  it('StartExecution: a repeated start with the same name and input answers once the first is stored', async () => {
    const dataDir = freshDir();
    const a = engine(
      dataDir,
      functions(() => 'hang'),
    );
    const first = a.startExecution({ stateMachineArn: ARN, name: 'twice', input: '{}' });
    const { out, copy } = await crashRightAfter(
      dataDir,
      a.startExecution({ stateMachineArn: ARN, name: 'twice', input: '{}' }),
    );
    expect(out.executionArn).toBe((await first).executionArn);
    expect(onDisk(copy, 'twice')).toMatchObject({ status: 'RUNNING', input: '{}' });
  });

  it('SendTaskSuccess: the resumed run goes on with the callback’s output and does not park again', async () => {
    const dataDir = freshDir();
    const fa = functions(hang(WORK));
    const a = engine(dataDir, fa);
    const { executionArn } = await a.startExecution({ stateMachineArn: ARN, name: 'ok', input: '{}' });
    await vi.waitFor(() => expect(fa.tokens()).toHaveLength(1));
    const { copy } = await crashRightAfter(
      dataDir,
      a.sendTaskSuccess({ taskToken: fa.tokens()[0], output: '{"signal":"demo"}' }),
    );
    const fb = functions();
    const b = engine(copy, fb);
    b.resumeAll();
    expect(await b.waitForExecution({ executionArn })).toMatchObject({ status: 'SUCCEEDED' });
    expect(fb.calls).toEqual([{ arn: WORK, payload: { wake: { signal: 'demo' } } }]);
  });

  it.each([
    ['SendTaskFailure', 'Rejected'],
    ['expireTask', 'States.Timeout'],
  ] as const)(
    '%s: the resumed run takes the failure (its Catch), as the first would have',
    async (api, error) => {
      const dataDir = freshDir();
      const fa = functions(hang(WORK));
      const a = engine(dataDir, fa);
      const { executionArn } = await a.startExecution({ stateMachineArn: ARN, name: 'no', input: '{}' });
      await vi.waitFor(() => expect(fa.tokens()).toHaveLength(1));
      const taskToken = fa.tokens()[0];
      const reply =
        api === 'expireTask'
          ? a.expireTask({ taskToken })
          : a.sendTaskFailure({ taskToken, error, cause: 'the rep said no' });
      const { copy } = await crashRightAfter(dataDir, reply);
      const fb = functions();
      const b = engine(copy, fb);
      b.resumeAll();
      expect(await b.waitForExecution({ executionArn })).toMatchObject({ status: 'SUCCEEDED' });
      expect(fb.calls.map((c) => c.arn)).toEqual([WORK]);
      expect(fb.calls[0]?.payload).toMatchObject({ caught: { Error: error } });
    },
  );

  it('a parked task whose callback outcome is on disk ends with it on resume, without invoking the task again', async () => {
    const dataDir = freshDir();
    const fa = functions();
    const a = engine(dataDir, fa);
    const { executionArn } = await a.startExecution({ stateMachineArn: ARN, name: 'pinned', input: '{}' });
    await vi.waitFor(() => expect(fa.tokens()).toHaveLength(1));
    await a.shutdown();
    // What the disk holds when the stack dies between storing a callback and entering the next state.
    const rec = onDisk(dataDir, 'pinned');
    expect(rec.current?.parked).toMatchObject({ state: 'Park', invoked: true });
    if (rec.current?.parked) rec.current.parked.outcome = { output: { signal: 'click' } };
    writeFileSync(join(dataDir, 'executions', 'pinned.json'), JSON.stringify(rec));
    const fb = functions();
    const b = engine(dataDir, fb);
    b.resumeAll();
    expect(await b.waitForExecution({ executionArn })).toMatchObject({ status: 'SUCCEEDED' });
    expect(fb.calls).toEqual([{ arn: WORK, payload: { wake: { signal: 'click' } } }]);
  });

  it('SendTaskHeartbeat: the heartbeat’s instant is on disk when it answers', async () => {
    const dataDir = freshDir();
    const fa = functions();
    const a = engine(dataDir, fa);
    await a.startExecution({ stateMachineArn: ARN, name: 'hb', input: '{}' });
    await vi.waitFor(() => expect(fa.tokens()).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 30));
    const before = Date.now();
    const { copy } = await crashRightAfter(dataDir, a.sendTaskHeartbeat({ taskToken: fa.tokens()[0] }));
    expect(onDisk(copy, 'hb').current?.parked?.lastHeartbeat).toBeGreaterThanOrEqual(before);
  });

  it('StopExecution: ABORTED on disk, and its status-change delivery too, when it answers', async () => {
    const dataDir = freshDir();
    const rule: LocalRule = {
      logicalId: 'RunEnded',
      name: 'RunEnded',
      pattern: { source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] } },
      enabled: true,
      targets: [{ id: 'RecordFailure', arn: RECORD_FAILURE }],
    };
    // The first stack's target never answers: its delivery is in flight when the stack dies.
    const bus = new EventBus([rule], { invoke: () => new Promise(() => undefined) }, { ...ACCOUNT, dataDir });
    const fa = functions();
    const a = engine(dataDir, fa, bus);
    const { executionArn } = await a.startExecution({ stateMachineArn: ARN, name: 'stop', input: '{}' });
    await vi.waitFor(() => expect(fa.tokens()).toHaveLength(1));
    const { copy } = await crashRightAfter(dataDir, a.stopExecution({ executionArn }));
    expect(onDisk(copy, 'stop')).toMatchObject({ status: 'ABORTED' });
    const delivered: unknown[] = [];
    const next = new EventBus(
      [rule],
      {
        invoke: async (_arn, payload): Promise<InvokeResult> => {
          delivered.push(payload);
          return { ok: true, result: null };
        },
      },
      { ...ACCOUNT, dataDir: copy },
    );
    expect(next.redeliver()).toBe(1);
    await next.drain();
    expect(delivered).toEqual([
      expect.objectContaining({ detail: expect.objectContaining({ executionArn, status: 'ABORTED' }) }),
    ]);
    await next.close();
    expect(readdirSync(join(copy, 'events'))).toEqual([]);
  });

  it('RedriveExecution: a run killed right after the reply is redriven from its failed state, once', async () => {
    const dataDir = freshDir();
    const redo: AslDefinition = {
      StartAt: 'Work',
      States: { Work: { Type: 'Task', Resource: WORK, End: true } },
    };
    // Work fails, then (redriven) runs on without an answer until the stack dies.
    const fa = functions((_arn, nth) => (nth === 1 ? 'fail' : 'hang'));
    const a = engine(dataDir, fa, undefined, redo);
    const { executionArn } = await a.startExecution({ stateMachineArn: ARN, name: 'redo', input: '{}' });
    expect(await a.waitForExecution({ executionArn })).toMatchObject({ status: 'FAILED', error: 'Down' });
    const { copy } = await crashRightAfter(dataDir, a.redriveExecution({ executionArn }));
    const fb = functions();
    const b = engine(copy, fb, undefined, redo);
    b.resumeAll();
    expect(await b.waitForExecution({ executionArn })).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
    });
    const history = types(b, executionArn);
    const redriven = history.indexOf('ExecutionRedriven');
    expect(history.slice(redriven)).toEqual([
      'ExecutionRedriven',
      'TaskStateEntered',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('refuses every write once stopped (503, which the SDK retries), never a 200 for a change not stored', async () => {
    const a = engine(freshDir(), functions());
    await a.shutdown();
    const refused = expect.objectContaining({ name: 'ServiceUnavailable', statusCode: 503 });
    await expect(a.startExecution({ stateMachineArn: ARN, name: 'late', input: '{}' })).rejects.toEqual(
      refused,
    );
    await expect(a.sendTaskSuccess({ taskToken: 'x', output: '{}' })).rejects.toEqual(refused);
    await expect(a.sendTaskFailure({ taskToken: 'x' })).rejects.toEqual(refused);
    await expect(a.sendTaskHeartbeat({ taskToken: 'x' })).rejects.toEqual(refused);
    await expect(a.stopExecution({ executionArn: 'x' })).rejects.toEqual(refused);
    await expect(a.redriveExecution({ executionArn: 'x' })).rejects.toEqual(refused);
    expect(a.list()).toEqual([]);
  });
});
