// Funnel milestones derived from a lead's history (pure): what `npm run funnel:rebuild` counts. It reads
// the same moments the handlers record — the timeline events they write with the same time — so a
// rebuild gives the counters the incremental path gives (docs/funnel.md, "Rebuild").
import type { RepsConfig } from '../functions/config/schema.ts';
import type { Milestone } from '../functions/funnel/funnel.ts';
import {
  durationOf,
  type MilestoneEvent,
  type MilestoneScope,
  markerOf,
  ROUTE_MILESTONES,
  type RunFacts,
  runFactsOf,
  type ScoreFacts,
  secondsBetween,
} from '../functions/funnel/funnel-counters.ts';
import type { Lead } from '../functions/lead/lead.ts';
import type { Route } from '../functions/lead/scoring.ts';

export interface HistoryEvent {
  type: string;
  at: string;
  data?: Record<string, unknown>;
}

export type HistoryLead = Pick<Lead, 'formType' | 'country' | 'companySize'>;

export interface HistoryDeal {
  repId: string;
  amount?: number;
  lostReason?: string;
}

export interface DerivedMilestone {
  /** The marker's key under the lead, as the handlers write it. */
  marker: string;
  /** On a run's `captured` marker: who the run's lead was. */
  facts?: RunFacts;
  event: MilestoneEvent;
}

interface Run {
  execution: string;
  /** The time of the capture (its first `scored` event): the run's cohort. */
  capturedAt: string;
  cycle: number;
  facts: RunFacts;
  score?: ScoreFacts;
}

const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function scoreOf(data: Record<string, unknown>, gradeOf: (total: number) => string): ScoreFacts | undefined {
  if (typeof data.total !== 'number') return undefined;
  return {
    total: data.total,
    grade: text(data.grade) ?? gradeOf(data.total),
    reasons: Array.isArray(data.reasons) ? data.reasons.map(String) : [],
  };
}

/**
 * The milestones in a lead's timeline, oldest first. A run starts with its form (`merged: false`) and the
 * first `scored` after it (captured, and MQL/SQL by its route); `nurture-decided` sales-ready is the cycle's
 * SQL; `assigned`, `rep-accept` and `closed` are the deal's; a recycled close opens the next cycle at MQL.
 * Scoring dimensions use the latest score event of the run before the milestone (what the lead item held);
 * a deal's milestones use the score its rep was shown (the `seen` of its latest assignment), as the handlers do.
 */
export function milestonesFromHistory(
  lead: HistoryLead,
  events: HistoryEvent[],
  deals: ReadonlyMap<string, HistoryDeal>,
  { reps, gradeOf }: { reps: RepsConfig; gradeOf: (total: number) => string },
): DerivedMilestone[] {
  const out: DerivedMilestone[] = [];
  const marks = new Map<string, string>();
  let form: { execution: string; data: Record<string, unknown> } | undefined;
  let run: Run | undefined;
  /** Per deal, the score its current rep was shown (older timelines have none: the run's score then). */
  const seen = new Map<string, ScoreFacts>();
  const seenOf = (d: Record<string, unknown>, dealId: string) => {
    const shown =
      d.seen && typeof d.seen === 'object' ? scoreOf(d.seen as Record<string, unknown>, gradeOf) : undefined;
    if (shown) seen.set(dealId, shown);
  };
  /** Per deal, the rating its rep gave with the won or lost answer. */
  const closeRatings = new Map<string, string>();
  const dealScore = (dealId: string) => {
    const score = seen.get(dealId);
    return score ? { score } : {};
  };

  /** Records a milestone once (by marker); durations only from a marker recorded before `sameStep`. */
  const record = (
    milestone: Milestone,
    at: string,
    scope: Omit<MilestoneScope, 'execution'> = {},
    extra: Pick<MilestoneEvent, 'rep' | 'amount' | 'lostReason' | 'score' | 'rating'> = {},
    sameStep: Milestone[] = [],
  ): boolean => {
    if (!run) return false;
    const where = { execution: run.execution, cycle: run.cycle, ...scope };
    const marker = markerOf(milestone, where);
    if (!marker || marks.has(marker)) return false;
    const durations: MilestoneEvent['durations'] = {};
    const duration = durationOf(milestone, where);
    const from =
      duration?.marker && !sameStep.includes(duration.from) ? marks.get(duration.marker) : undefined;
    if (duration && from) durations[duration.name] = secondsBetween(from, at);
    marks.set(marker, at);
    const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
    out.push({
      marker,
      ...(milestone === 'captured' ? { facts: run.facts } : {}),
      event: {
        milestone,
        at,
        cycle: run.cycle,
        run: run.facts,
        durations,
        ...(run.score ? { score: run.score } : {}),
        capturedAt: run.capturedAt,
        ...defined,
      },
    });
    return true;
  };

  for (const e of events) {
    const d = e.data ?? {};
    const dealId = text(d.dealId);
    switch (e.type) {
      case 'form':
        // A submission that started (or re-entered, on redrive) its own run; not one merged or delivered.
        if (text(d.executionName) && d.merged === false)
          form = { execution: String(d.executionName), data: d };
        break;
      case 'scored': {
        if (!form) break;
        if (run?.execution === form.execution) {
          // A retried capture scored again: the lead item holds the later score.
          run.score = scoreOf(d, gradeOf) ?? run.score;
          break;
        }
        const facts = runFactsOf(
          {
            ...lead,
            formType: text(form.data.formType) ?? lead.formType,
            utmSource: text(form.data.utmSource),
            utmMedium: text(form.data.utmMedium),
            utmCampaign: text(form.data.utmCampaign),
          },
          reps,
        );
        const territory = text(d.territory);
        run = {
          execution: form.execution,
          capturedAt: e.at,
          cycle: 0,
          facts: territory ? { ...facts, territory } : facts,
        };
        const score = scoreOf(d, gradeOf);
        if (score) run.score = score;
        for (const m of ROUTE_MILESTONES[d.route as Route] ?? ['captured']) record(m, e.at);
        break;
      }
      case 'nurture-decided':
        if (!run) break;
        run.score = scoreOf(d, gradeOf) ?? run.score;
        if (d.next === 'sales-ready') {
          record('mql', e.at);
          record('sql', e.at);
        }
        break;
      case 'assigned':
        if (!dealId) break;
        seenOf(d, dealId);
        record('assigned', e.at, { dealId }, { rep: text(d.repId), ...dealScore(dealId) });
        break;
      case 'reassigned':
        if (dealId) seenOf(d, dealId);
        break;
      case 'rep-accept':
        if (dealId)
          record(
            'accepted',
            e.at,
            { dealId },
            { rep: text(d.repId), ...dealScore(dealId), rating: text(d.rating) },
          );
        break;
      case 'rep-won':
      case 'rep-lost':
        // Counted with the outcome "Close deal" records next (its `closed` event).
        if (dealId && text(d.rating)) closeRatings.set(dealId, String(d.rating));
        break;
      case 'closed': {
        if (!run || !dealId) break;
        const deal = deals.get(dealId);
        const rep = deal?.repId;
        if (d.stage === 'won' || d.stage === 'lost') {
          const implied = record('accepted', e.at, { dealId }, { rep, ...dealScore(dealId) });
          record(
            d.stage,
            e.at,
            { dealId },
            {
              rep,
              ...dealScore(dealId),
              amount: typeof d.amount === 'number' ? d.amount : deal?.amount,
              lostReason: text(d.lostReason) ?? deal?.lostReason,
              rating: closeRatings.get(dealId),
            },
            implied ? ['accepted'] : [],
          );
        } else if (d.stage === 'stale') record('stale', e.at, { dealId }, { rep, ...dealScore(dealId) });
        if (d.recycled === true) {
          run.cycle += 1;
          record('mql', e.at);
        }
        break;
      }
    }
  }
  return out;
}
