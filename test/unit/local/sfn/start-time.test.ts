import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import '#local/long-timers.ts';
import { compressedWallClock } from '#local/clock.ts';
import { LocalStepFunctions } from '#local/sfn/api.ts';
import type { AslDefinition } from '#local/template.ts';

// $$.Execution.StartTime is the run's start on the stack's clock, not the real clock: the library sets its
// own `new Date()` there, so a stack whose clock ran 90 days ahead gave every run an age of 90 days at its
// first wait, and each one continued as a new run forever.
const FN = 'arn:aws:lambda:us-east-1:000000000000:function:Step';
const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Probe';
const AHEAD_MS = 90 * 86_400_000;
const definition: AslDefinition = {
  StartAt: 'A',
  States: {
    A: {
      Type: 'Task',
      Resource: FN,
      Parameters: {
        step: 'A',
        'startedAt.$': '$$.Execution.StartTime',
        nested: { 'at.$': '$$.Execution.StartTime' },
      },
      ResultPath: '$.a',
      Next: 'B',
    },
    B: { Type: 'Task', Resource: FN, Parameters: { step: 'B', 'name.$': '$$.Execution.Name' }, End: true },
  },
};

let sfn: LocalStepFunctions | undefined;
afterEach(async () => sfn?.shutdown());

it('hands tasks the run’s StartTime on the stack’s clock, whatever the real clock says', async () => {
  const payloads: Record<string, unknown>[] = [];
  const clock = { ...compressedWallClock(1), now: () => Date.now() + AHEAD_MS };
  sfn = new LocalStepFunctions(
    [{ arn: ARN, name: 'Probe', definition, createdAt: clock.now() }],
    {
      async call(_arn, payload) {
        payloads.push(payload as Record<string, unknown>);
        return {};
      },
    },
    {
      dataDir: mkdtempSync(join(tmpdir(), 'handoff-start-time-')),
      clock,
      region: 'us-east-1',
      account: '000000000000',
    },
  );
  const { executionArn, startDate } = await sfn.startExecution({
    stateMachineArn: ARN,
    name: 'ahead',
    input: '{}',
  });
  await sfn.waitForExecution({ executionArn });
  const started = new Date(startDate * 1000).toISOString();
  expect(Date.parse(started)).toBeGreaterThan(Date.now() + AHEAD_MS - 60_000);
  expect(payloads[0]).toEqual({ step: 'A', startedAt: started, nested: { at: started } });
  expect(payloads[1]).toEqual({ step: 'B', name: 'ahead' });
});
