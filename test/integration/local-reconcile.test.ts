// Reconcile: a run's "Execution Status Change" event is lost (the RunEnded rule's delivery taken out of the
// template), so Record failure never runs: the lead stays "assigned" and the rep's slot stays held. The
// reconcile (functions/events/reconcile-runs.ts, behind `npm run reconcile` and the hourly ReconcileRuns
// function) finds both, a dry run changes nothing, and a repair frees the slot and marks the lead failed.
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reconcileRuns } from '#functions/events/reconcile-runs.ts';
import { leadIdFor } from '#functions/lead/lead.ts';
import { sfnRunLookup, sfnRuns } from '#functions/platform/runs.ts';
import type { CfnTemplate } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';
import { editedApp, parkedAt, runOf } from '#test/fixtures/local-iam.ts';
import {
  credentials,
  eventually,
  postLead,
  sfnOf,
  startTestStack,
  storesOf,
  type TestStack,
} from '#test/fixtures/local-stack.ts';

/** The template with the RunEnded rule delivering to nothing: every status-change event is lost. */
const withoutRunEndedDelivery = (template: CfnTemplate) => {
  const rule = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith('RunEnded'),
  )?.[1];
  if (!rule?.Properties) throw new Error('no RunEnded rule');
  rule.Properties.Targets = [];
};

describe('reconcile repairs what a lost RunEnded event left behind', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startTestStack(editedApp(inject('cdkOut'), withoutRunEndedDelivery), { retryIntervalMs: 0 });
  });
  afterAll(async () => {
    await t?.stack.stop();
  });

  const openDeals = async () => {
    const loads = await storesOf(t).reps.loads(config.reps.reps.map((r) => r.id));
    return Object.values(loads).reduce((n, l) => n + (l?.openDeals ?? 0), 0);
  };
  const reconcile = (dryRun: boolean) => {
    const client = { endpoint: t.stack.urls.sfn, region: 'us-east-1', credentials };
    return reconcileRuns(
      {
        ...storesOf(t),
        runs: sfnRuns({ client }),
        lookup: sfnRunLookup({ stateMachineArn: t.stack.stateMachineArn, client }),
      },
      { dryRun },
    );
  };

  it('frees the rep’s slot and marks the lead failed; without it both stay held', async () => {
    const email = 'lost.event@acme-robotics.com';
    const leadId = leadIdFor(email);
    const before = await openDeals();
    expect((await postLead(t, { email, firstName: 'Lou', formType: 'demo-request' })).status).toBe(202);
    const executionArn = await runOf(t, leadId);
    await parkedAt(t, executionArn, 'Await rep acceptance');
    expect(await openDeals()).toBe(before + 1);

    await sfnOf(t).send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'lost event test' }),
    );
    await eventually(async () => {
      const { status } = await sfnOf(t).send(new DescribeExecutionCommand({ executionArn }));
      return status === 'ABORTED' ? true : undefined;
    });
    // The event went nowhere: the bus has delivered it (to no target), and nothing changed.
    await new Promise((r) => setTimeout(r, 1_000));
    const lead = await storesOf(t).leads.get(leadId);
    expect(lead?.stage).toBe('assigned');
    expect(await openDeals()).toBe(before + 1);

    const dry = await reconcile(true);
    const mine = (f: { leadId?: string }) => f.leadId === leadId;
    expect(dry.findings.filter(mine)).toEqual([
      expect.objectContaining({
        kind: 'lead-run-ended',
        status: 'ABORTED',
        action: expect.stringMatching(/^would be/),
      }),
      expect.objectContaining({
        kind: 'deal-held',
        dealId: lead?.openDealId,
        action: expect.stringMatching(/^would be/),
      }),
    ]);
    expect((await storesOf(t).leads.get(leadId))?.stage).toBe('assigned');
    expect(await openDeals()).toBe(before + 1);

    const applied = await reconcile(false);
    expect(applied.findings.filter(mine)).toEqual([
      expect.objectContaining({ kind: 'lead-run-ended', action: 'marked failed, slot released' }),
    ]);
    expect((await storesOf(t).leads.get(leadId))?.stage).toBe('failed');
    expect(await openDeals()).toBe(before);
    expect((await storesOf(t).deals.get(String(lead?.openDealId)))?.runEnd).toBe('ABORTED');
    // Idempotent: nothing is left to find.
    expect((await reconcile(false)).findings.filter(mine)).toEqual([]);
  });
});
