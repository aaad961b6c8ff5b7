// "A reply means stored" (docs/architecture.md, "Durability"), end to end: the stack runs in a child process, is SIGKILLed (no stop,
// no flush) the instant a batch of 202s has arrived or while an EventBridge delivery waits for its retry,
// and a stack started on the same data folder has every accepted lead's run, once, and makes the delivery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { aFormSubmission } from '#test/fixtures/leads.ts';
import { credentials, eventually, startTestStack, type TestStack } from '#test/fixtures/local-stack.ts';
import { type ChildStack, startChildStack } from '#test/fixtures/local-stack-child.ts';

let child: ChildStack | undefined;
let restarted: TestStack | undefined;
const dataDirs: string[] = [];
const freshDataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'handoff-crash-'));
  dataDirs.push(d);
  return d;
};
afterEach(async () => {
  child?.child.kill('SIGKILL');
  child = undefined;
  await restarted?.stack.stop();
  restarted = undefined;
  for (const d of dataDirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sfnAt = (url: string) => new SFNClient({ endpoint: url, region: 'us-east-1', credentials });
const post = (api: string, fields: Record<string, string>) =>
  fetch(`${api}/leads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(aFormSubmission(fields)),
  });
/** SIGKILLs the child now and resolves once it is gone. */
function kill(c: ChildStack): Promise<void> {
  const gone = new Promise<void>((r) => c.child.once('exit', () => r()));
  c.child.kill('SIGKILL');
  return gone;
}
async function executionsOf(t: TestStack) {
  const sfn = sfnAt(t.stack.urls.sfn);
  const all: { name?: string; executionArn?: string; status?: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: t.stack.stateMachineArn, maxResults: 1000, nextToken }),
    );
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

describe('local runtime: a SIGKILL loses nothing that was acknowledged', () => {
  it('every lead that got its 202 has its run, once, on the stack started after the kill', async () => {
    const dataDir = freshDataDir();
    const c = await startChildStack({ cdkOut: inject('cdkOut'), dataDir });
    child = c;
    const batch = 40;
    const accepted: string[] = [];
    let answered = 0;
    let killed: Promise<void> | undefined;
    await Promise.all(
      Array.from({ length: batch }, (_, i) =>
        post(c.urls.api, { email: `crash.${i}@acme-robotics.com`, firstName: `Crash${i}` })
          .then(async (res) => {
            if (res.status === 202) accepted.push(((await res.json()) as { leadId: string }).leadId);
          })
          .finally(() => {
            answered += 1;
            // The instant the batch's last answer arrives: nothing else gets a chance to be written.
            if (answered === batch) killed = kill(c);
          }),
      ),
    );
    await killed;
    child = undefined;
    expect(accepted.length).toBeGreaterThan(batch / 2); // most are taken (the rest were asked to retry)

    restarted = await startTestStack(inject('cdkOut'), { dataDir });
    const runs = await executionsOf(restarted);
    const names = runs.map((r) => String(r.name));
    expect(new Set(names).size).toBe(names.length);
    for (const leadId of accepted)
      expect(
        names.filter((n) => n.startsWith(`${leadId}-`)),
        leadId,
      ).toHaveLength(1);
    expect(restarted.stack.resumed).toBeGreaterThanOrEqual(runs.filter((r) => r.status === 'RUNNING').length);
  }, 90_000);

  it('an EventBridge delivery waiting for its retry at the kill is delivered by the next stack', async () => {
    const dataDir = freshDataDir();
    // Record failure's first attempt fails (a crash), and its retry is a minute away when the stack dies.
    const c = await startChildStack({ cdkOut: inject('cdkOut'), dataDir, events: { retryDelayMs: 60_000 } });
    child = c;
    const email = 'stopped.run@acme-robotics.com';
    const leadId = leadIdFor(email);
    const admin = (api: string, token: string) =>
      fetch(`${api}/admin/leads/${leadId}`, { headers: { authorization: `Bearer ${token}` } });
    expect((await post(c.urls.api, { email, firstName: 'Stopped' })).status).toBe(202);
    // Captured (the lead exists) before the run is stopped.
    await eventually(
      async () => ((await admin(c.urls.api, c.adminToken)).status === 200 ? true : undefined),
      20_000,
    );
    const faults = `${c.urls.sfn}/_local/faults`;
    const setFault = await fetch(faults, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ crash: { function: 'RecordFailure', rate: 1 } }),
    });
    expect(setFault.status).toBe(200);
    const sfn = sfnAt(c.urls.sfn);
    const { executions = [] } = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: c.stateMachineArn }),
    );
    const executionArn = String(executions.find((e) => e.name?.startsWith(leadId))?.executionArn);
    await sfn.send(new StopExecutionCommand({ executionArn, cause: 'test' }));
    await eventually(async () => {
      const read = (await (await fetch(faults)).json()) as { injected: { crash: number } };
      return read.injected.crash >= 1 ? true : undefined;
    }, 20_000);
    await kill(c);
    child = undefined;

    restarted = await startTestStack(inject('cdkOut'), { dataDir });
    expect(restarted.logs).toContain('events: delivering 1 event(s) accepted before the last stop');
    const { status } = await sfnAt(restarted.stack.urls.sfn).send(
      new DescribeExecutionCommand({ executionArn }),
    );
    expect(status).toBe('ABORTED');
    const t = restarted;
    const lead = await eventually(async () => {
      const body = (await (await admin(t.stack.urls.api, t.stack.adminToken)).json()) as {
        lead: { stage: string };
      };
      return body.lead.stage === 'failed' ? body.lead : undefined;
    }, 20_000);
    expect(lead.stage).toBe('failed');
  }, 90_000);
});
