// The console's reads of the app's own records (the DynamoDB stores): a lead with its timeline and deals,
// the deals board, the lead summaries runs and deal cards show, the deliverability breaker, and the funnel
// and scoring-feedback reports. Nothing here talks to Step Functions (runs-api.ts does).

import { config } from '../functions/config/bundled.ts';
import { DEAL_STAGES } from '../functions/deal/deal.ts';
import { evaluateBreaker } from '../functions/deliverability/breaker.ts';
import { cohortQuery, cohortReport } from '../functions/funnel/cohort-report.ts';
import { repFeedbackReport } from '../functions/funnel/rep-feedback-report.ts';
import { funnelReport, reportQuery, scoringFeedbackReport } from '../functions/funnel/reports.ts';
import type { DealRecord, LeadRecord, Stores } from '../functions/stores.ts';
import { ApiError } from './api-error.ts';
import { maskDeep } from './mask.ts';
import { intParam, LEAD_ID, NAME, param, type Query, SCAN_LIMIT } from './query.ts';

/** What a runs-list row or a deal card shows of its lead. Masked as the lead page masks its profile. */
export interface LeadSummary {
  firstName: string;
  lastName?: string;
  company?: string;
  formType: string;
  stage: string;
  score?: { total: number; grade: string };
}

/** The summary of a lead record (no email, no phone, no message: only what a row shows). */
export function leadSummaryOf(record: LeadRecord): LeadSummary {
  return {
    firstName: record.firstName,
    ...(record.lastName ? { lastName: record.lastName } : {}),
    ...(record.company ? { company: record.company } : {}),
    formType: record.formType,
    stage: record.stage,
    ...(record.score ? { score: { total: record.score.total, grade: record.score.grade } } : {}),
  };
}

export class RecordsApi {
  /**
   * @param now the stack's "now" (on the local stack its virtual clock): the breaker's window and the
   * reports' default range are measured from it.
   */
  constructor(
    private readonly stores: Stores,
    private readonly now: () => Date,
  ) {}

  /**
   * A lead's profile, timeline and deals, and the names of its runs (the runs its form events name, and
   * its active run: no listing to scan), for runs-api.ts to read.
   */
  async lead(leadId: string, reveal: boolean) {
    if (!LEAD_ID.test(leadId))
      throw new ApiError(400, 'Bad lead id', { leadId: 'must look like ld-<20 hex>' });
    const record = await this.stores.leads.get(leadId);
    if (!record)
      throw new ApiError(404, `No lead ${leadId}: it was never captured, or it was erased or expired`);
    const timeline = await this.stores.leads.listEvents(leadId);
    const dealIds = [
      ...new Set(
        [
          ...timeline
            .filter((e) => e.type === 'assigned' && typeof e.data?.dealId === 'string')
            .map((e) => String(e.data?.dealId)),
          record.openDealId,
        ].filter((d): d is string => Boolean(d)),
      ),
    ];
    const deals = (await Promise.all(dealIds.map((d) => this.stores.deals.get(d)))).filter(
      (d): d is DealRecord => Boolean(d),
    );
    const named = timeline.filter((e) => e.type === 'form').map((e) => e.data?.executionName);
    const runNames = [...new Set([...named, record.activeExecution])]
      .filter((n): n is string => typeof n === 'string' && NAME.test(n))
      .slice(-20);
    const lead = shownLead(record);
    return {
      lead: reveal ? lead : maskDeep(lead),
      timeline: reveal ? timeline : maskDeep(timeline),
      deals: deals.map(shownDeal),
      runNames,
    };
  }

  /**
   * The lead summaries of some leads, read in one batch (only the ids given: the rows of one answer) and
   * masked unless revealed.
   */
  async leadSummaries(leadIds: (string | undefined)[], reveal: boolean) {
    const ids = [...new Set(leadIds.filter((id): id is string => id !== undefined && LEAD_ID.test(id)))];
    const records = ids.length ? await this.stores.leads.getMany(ids) : new Map<string, LeadRecord>();
    const out = new Map<string, LeadSummary>();
    for (const [id, record] of records) {
      const summary = leadSummaryOf(record);
      out.set(id, reveal ? summary : maskDeep(summary));
    }
    return out;
  }

  /** The deals board: per stage, the newest `limit` deals (and how many were read). */
  async deals(q: Query, reveal = false) {
    const limit = intParam(q, 'limit', 1, 200, 50);
    const stages = await Promise.all(
      DEAL_STAGES.map(async (stage) => {
        const newest: DealRecord[] = [];
        let total = 0;
        for await (const d of this.stores.deals.listByStage(stage)) {
          total += 1;
          newest.push(d);
          if (newest.length > limit) newest.shift();
          if (total >= SCAN_LIMIT) break;
        }
        return { stage, total, ...(total >= SCAN_LIMIT ? { truncated: true } : {}), newest };
      }),
    );
    // The leads of the cards shown (at most `limit` per stage), in one batch for the whole board.
    const leads = await this.leadSummaries(
      stages.flatMap((s) => s.newest.map((d) => d.leadId)),
      reveal,
    );
    const reps = new Map(config.reps.reps.map((r) => [r.id, r.name]));
    return {
      stages: stages.map(({ newest, ...s }) => ({
        ...s,
        deals: newest.reverse().map((d) => {
          const lead = leads.get(d.leadId);
          const repName = reps.get(d.repId);
          return { ...shownDeal(d), ...(repName ? { repName } : {}), ...(lead ? { lead } : {}) };
        }),
      })),
    };
  }

  async deliverability() {
    const state = await evaluateBreaker(this.stores.deliverability, this.now());
    const firstContact = await evaluateBreaker(this.stores.firstContact, this.now());
    return { ...state, firstContact, limits: config.app.deliverability, checkedAt: this.now().toISOString() };
  }

  /** The funnel for `from`..`to` (UTC days, default the last 30), optionally broken down `by` a dimension. */
  async funnel(q: Query) {
    return funnelReport(this.stores, reportQuery(rangeParams(q), this.now()));
  }

  /** Of the leads captured in the range: each stage reached, the median time to it, revenue won. */
  async cohorts(q: Query) {
    return cohortReport(this.stores, cohortQuery(rangeParams(q), this.now()));
  }

  /**
   * Won, lost and no-response rates by grade, band and reason, and the best sales-ready threshold; what
   * reps said (ratings by source, campaign and form, and their notes: masked unless revealed).
   */
  async scoringFeedback(q: Query, reveal = false) {
    const { from, to } = reportQuery(
      { from: param(q, 'from', undefined, 10), to: param(q, 'to', undefined, 10) },
      this.now(),
    );
    const [feedback, reps] = await Promise.all([
      scoringFeedbackReport(this.stores, { from, to }),
      repFeedbackReport(this.stores, { from, to }),
    ]);
    return { ...feedback, reps: reveal ? reps : maskDeep(reps) };
  }
}

/** A report's range and breakdown as the query gives them (each checked by the report's own query). */
const rangeParams = (q: Query) => ({
  from: param(q, 'from', undefined, 10),
  to: param(q, 'to', undefined, 10),
  by: param(q, 'by', undefined, 40),
});

/** The lead as the console shows it: no task token, no index keys. */
function shownLead(record: LeadRecord) {
  const { waitToken, expiresAt, ...rest } = record as LeadRecord & { waitToken?: string; expiresAt?: number };
  const shown: Record<string, unknown> = { ...rest, waiting: Boolean(waitToken) };
  for (const k of Object.keys(shown)) if (/^gsi\d/.test(k)) delete shown[k];
  return shown;
}

function shownDeal(d: DealRecord) {
  const { taskToken, ...rest } = d;
  const shown: Record<string, unknown> = { ...rest, waiting: Boolean(taskToken) };
  for (const k of Object.keys(shown)) if (/^gsi\d/.test(k) || k === 'expiresAt') delete shown[k];
  return shown;
}
