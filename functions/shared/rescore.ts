import { config } from './config.ts';
import { store } from './data/store.ts';
import { NotFoundError } from './domain/errors.ts';
import type { LeadStage } from './domain/lead.ts';
import { type Route, routeLead, scoreLead } from './domain/scoring.ts';

export const STAGE_FOR_ROUTE: Record<Route, LeadStage> = {
  disqualify: 'disqualified',
  'sales-ready': 'sales-ready',
  nurture: 'nurturing',
};

/** Rescores a lead from its profile and timeline; shared by "Score lead" and "Check engagement". */
export async function rescore(leadId: string, now: Date) {
  const lead = await store.getLead(leadId);
  if (!lead) throw new NotFoundError(`Lead ${leadId}`);
  // After a recycle, only engagement since then can requalify the lead: the old demo request already had its turn.
  const since = lead.engagementSince ?? '';
  const events = (await store.engagementEvents(leadId)).filter((e) => e.at >= since);
  const score = scoreLead(lead, events, config.scoring, now);
  const route = routeLead(
    score,
    events.map((e) => e.type),
    config.scoring,
  );
  return { lead, score, route };
}
