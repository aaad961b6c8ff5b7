// Reconcile: what Record failure would have done, for runs whose "Execution Status Change" event never
// arrived (a lost or dropped EventBridge delivery). Compares the leads and open deals with their runs and
// repairs them with the same code Record failure runs (run-ended.ts). Shared by `npm run reconcile`
// (scripts/reconcile.ts) and the hourly ReconcileRuns function (reconcile.ts).

import {
  type EndedRun,
  type RunEndedDeps,
  recordRunEnded,
  releaseDealOfEndedRun,
} from '#functions/events/run-ended.ts';
import { ACTIVE_STAGES } from '#functions/lead/lead-stage.ts';
import type { RunDescription, RunLookup } from '#functions/platform/runs.ts';
import type { LeadRecord } from '#functions/stores.ts';

/** One disagreement between the data and the runs, and what reconcile did (or would do) about it. */
export interface Finding {
  kind:
    | 'lead-run-ended' // an active lead whose run ended without its event: marked failed, rep freed
    | 'lead-run-continued' // the lead still points at a run that continued: pointed at the continuation
    | 'deal-held' // an open deal whose run ended holds its rep's slot: slot given back
    | 'lead-run-missing' // an active lead whose run does not exist: left for an operator
    | 'lead-run-succeeded'; // an active lead whose run succeeded without moving it: left for an operator
  leadId?: string;
  dealId?: string;
  run?: string;
  status?: string;
  /** What was done ("marked failed, slot released"), or "would …" in a dry run, or "left for an operator". */
  action: string;
}

export interface ReconcileOptions {
  dryRun: boolean;
  /** Called every `progressEvery` items looked at, and once a phase is done. */
  progress?: (line: string) => void;
  progressEvery?: number;
  now?: Date;
}

const ENDED = new Set<RunDescription['status']>(['FAILED', 'TIMED_OUT', 'ABORTED']);
const isEnded = (d: RunDescription): d is RunDescription & { status: EndedRun['status'] } =>
  ENDED.has(d.status);

/** The execution a run's output says it continued as (`continuedAs.name`), if it did. */
function continuedAs(output: string | undefined): string | undefined {
  try {
    const name = (JSON.parse(output ?? 'null') as { continuedAs?: { name?: unknown } } | null)?.continuedAs
      ?.name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds leads whose stage disagrees with their run and open deals held by ended runs; repairs what Record
 * failure would have repaired unless `dryRun`. Idempotent, safe beside the live system: every write is the
 * conditional, once-only write Record failure makes, so a late event and reconcile never double a release.
 */
export async function reconcileRuns(
  deps: RunEndedDeps & { lookup: RunLookup },
  { dryRun, progress = () => {}, progressEvery = 500, now = new Date() }: ReconcileOptions,
): Promise<{ leadsChecked: number; dealsChecked: number; findings: Finding[] }> {
  const findings: Finding[] = [];
  const would = (done: string) => (dryRun ? `would be ${done}` : done);
  const described = new Map<string, RunDescription | undefined>();
  const describe = async (name: string) => {
    if (!described.has(name)) described.set(name, await deps.lookup.describe(name));
    return described.get(name);
  };
  const endedAt = (d: RunDescription) => d.stopDate ?? now.toISOString();

  let leadsChecked = 0;
  for (const stage of ACTIVE_STAGES) {
    for await (const lead of deps.leads.listByStage(stage)) {
      leadsChecked += 1;
      if (leadsChecked % progressEvery === 0) progress(`… ${leadsChecked} active leads checked`);
      const found = await checkLead(lead);
      if (found) findings.push(found);
    }
  }
  progress(`${leadsChecked} active leads checked`);

  let dealsChecked = 0;
  for (const stage of ['assigned', 'accepted'] as const) {
    for await (const deal of deps.deals.listByStage(stage)) {
      dealsChecked += 1;
      if (dealsChecked % progressEvery === 0) progress(`… ${dealsChecked} open deals checked`);
      if (deal.loadReleasedAt) continue;
      const run = await describe(deal.executionName);
      if (!run || !isEnded(run)) continue;
      const released = dryRun ? false : await releaseDealOfEndedRun(deps, deal, run.status, endedAt(run));
      findings.push({
        kind: 'deal-held',
        leadId: deal.leadId,
        dealId: deal.dealId,
        run: run.name,
        status: run.status,
        action: dryRun ? would('released') : released ? 'slot released' : 'already released',
      });
    }
  }
  progress(`${dealsChecked} open deals checked`);
  return { leadsChecked, dealsChecked, findings };

  async function checkLead(lead: LeadRecord): Promise<Finding | undefined> {
    const name = lead.activeExecution;
    if (!name) return undefined;
    const run = await describe(name);
    const base = { leadId: lead.id, run: name };
    if (!run) return { ...base, kind: 'lead-run-missing', action: 'left for an operator' };
    if (isEnded(run)) {
      if (dryRun)
        return {
          ...base,
          kind: 'lead-run-ended',
          status: run.status,
          action: would('marked failed, slot released'),
        };
      const r = await recordRunEnded(deps, run, endedAt(run));
      const action = r.recorded ? `marked failed${r.released ? ', slot released' : ''}` : 'nothing to record';
      return { ...base, kind: 'lead-run-ended', status: run.status, action };
    }
    if (run.status !== 'SUCCEEDED') return undefined;
    const next = continuedAs(run.output);
    if (next && (await describe(next))) {
      if (!dryRun)
        await deps.leads.setStage(lead.id, lead.stage, now.toISOString(), { activeExecution: next });
      return { ...base, kind: 'lead-run-continued', status: run.status, action: would(`pointed at ${next}`) };
    }
    return { ...base, kind: 'lead-run-succeeded', status: run.status, action: 'left for an operator' };
  }
}
