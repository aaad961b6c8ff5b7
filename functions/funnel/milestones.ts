import { config } from '../config/bundled.ts';
import type { LeadRecord } from '../lead/lead-store.ts';
import { logger, metrics } from '../platform/observability.ts';
import type { Milestone } from './funnel.ts';
import {
  allCountersOf,
  type CounterItems,
  durationOf,
  type MilestoneEvent,
  markerOf,
  type RunFacts,
  runFactsOf,
  type ScoreFacts,
  scoreFactsOf,
  secondsBetween,
  sumInto,
  TOP_LINE_METRICS,
} from './funnel-counters.ts';
import type { FunnelMarker, FunnelStore } from './funnel-store.ts';

export interface MilestoneContext {
  leadId: string;
  execution: string;
  /** The nurture cycle (run milestones and lead → assigned need it; a win in cycle > 0 is a recycled win). */
  cycle?: number;
  /** The deal, for assigned, accepted and the outcomes. */
  dealId?: string;
  /** When it happened: the time the handler also writes on the timeline (the rebuild reads that). */
  at: string;
  /** The run's lead as captured (Capture passes it; later steps read it from the run's `captured` marker). */
  run?: RunFacts;
  /** The lead now: its score, and who it is when the run has no `captured` marker (a run older than the funnel). */
  lead?: LeadRecord;
  score?: ScoreFacts;
  rep?: string;
  amount?: number;
  lostReason?: string;
  /** The rep's rating, counted with the milestone their answer made (not with one it implied). */
  rating?: { milestone: Milestone; value: string };
}

/** Logs and counts counters that a rebuild must repair (the FunnelCountersShort alarm fires on it). */
function counterError(leadId: string, milestones: Milestone[], e: unknown): void {
  logger.error('funnel counters not updated: npm run funnel:rebuild repairs them', {
    leadId,
    milestones,
    error: e instanceof Error ? e.name : 'unknown',
  });
  metrics.addMetric('FunnelCounterErrors', 'Count', 1);
}

/**
 * Records funnel milestones, in order, each once per run cycle or deal (docs/funnel.md). The marker is a
 * conditional write under the lead, and only the call that wrote it adds to the day's counters and emits the
 * top-line metric: a retried step or a redelivered event finds the marker and adds nothing. Markers first,
 * then the counters of every milestone recorded, summed into one write per day, without a transaction: at
 * most once. A counter write that fails after its markers is logged and counted (FunnelCounterErrors), not
 * retried — the lead's journey never waits on its statistics — and `npm run funnel:rebuild` repairs the
 * counts. A failed marker write throws (the step retries) after the milestones already marked are counted.
 * A duration is measured only from a marker recorded before this call (an acceptance implied by a win
 * has no accepted → closed time). Returns the milestones this call recorded.
 */
export async function recordMilestones(
  { funnel }: { funnel: FunnelStore },
  ctx: MilestoneContext,
  milestones: Milestone[],
): Promise<Milestone[]> {
  const recorded: Milestone[] = [];
  const counters = new Map<string, CounterItems>();
  // The earlier markers this call may need (the run's `captured` for who the lead is, each duration's
  // start), read together once the first milestone is recorded: one BatchGetItem, none on a retry.
  const captured = String(markerOf('captured', ctx));
  const needed = [
    ...(ctx.run ? [] : [captured]),
    ...milestones.flatMap((m) => durationOf(m, ctx)?.marker ?? []),
  ];
  let earlier: Map<string, FunnelMarker> | undefined;
  let run = ctx.run;
  /** When the run was captured: this call's time for Capture, else its `captured` marker's. */
  let capturedAt: string | undefined;
  const score = ctx.score ?? (ctx.lead?.score ? scoreFactsOf(ctx.lead.score) : undefined);
  /** Marked by this call but not (yet) in `counters`: lost unless a rebuild recounts them. */
  let uncounted: Milestone | undefined;
  try {
    for (const milestone of milestones) {
      const marker = markerOf(milestone, ctx);
      if (!marker) continue;
      const facts = milestone === 'captured' && run ? { facts: run } : {};
      if (!(await funnel.mark(ctx.leadId, marker, { at: ctx.at, ...facts }))) continue;
      recorded.push(milestone);
      uncounted = milestone;
      earlier ??= needed.length ? await funnel.markers(ctx.leadId, needed) : new Map<string, FunnelMarker>();
      run ??= earlier.get(captured)?.facts ?? (ctx.lead ? runFactsOf(ctx.lead, config.reps) : undefined);
      capturedAt ??= ctx.run ? ctx.at : earlier.get(captured)?.at;
      uncounted = undefined;
      if (!run) {
        logger.warn('funnel milestone without the run’s lead: not counted', {
          leadId: ctx.leadId,
          milestone,
        });
        continue;
      }
      const durations: MilestoneEvent['durations'] = {};
      const duration = durationOf(milestone, ctx);
      if (duration?.marker && !recorded.includes(duration.from)) {
        const from = earlier.get(duration.marker);
        if (from) durations[duration.name] = secondsBetween(from.at, ctx.at);
      }
      const event = {
        milestone,
        at: ctx.at,
        cycle: ctx.cycle ?? 0,
        run,
        durations,
        ...(score ? { score } : {}),
        ...(ctx.rep ? { rep: ctx.rep } : {}),
        ...(ctx.amount !== undefined ? { amount: ctx.amount } : {}),
        ...(ctx.lostReason ? { lostReason: ctx.lostReason } : {}),
        ...(ctx.rating?.milestone === milestone ? { rating: ctx.rating.value } : {}),
        ...(capturedAt ? { capturedAt } : {}),
      };
      // The flow's day and the cohort's (the capture's): one write when they are the same day.
      for (const { day, items } of allCountersOf(event))
        counters.set(day, sumInto(counters.get(day) ?? {}, items));
      const metric = TOP_LINE_METRICS[milestone];
      if (metric) metrics.addMetric(metric, 'Count', 1);
      if (milestone === 'won' && ctx.amount) metrics.addMetric('RevenueWon', 'None', ctx.amount);
    }
  } finally {
    // Every milestone marked so far in one write per day (Capture's captured, mql and sql: one UpdateItem),
    // also when a later marker write threw: the retry finds these markers and would never count them.
    for (const [day, items] of counters) {
      try {
        await funnel.add(day, items);
      } catch (e) {
        counterError(ctx.leadId, recorded, e);
      }
    }
    // Marked, then the read of who the lead is failed: the retry skips it, so the alarm must say so.
    if (uncounted) counterError(ctx.leadId, [uncounted], new Error('funnel markers unread'));
  }
  return recorded;
}
