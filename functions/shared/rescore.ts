import { config } from './config.ts';
import type { LeadStore, TimelineEvent } from './data/index.ts';
import { NotFoundError } from './domain/errors.ts';
import { type EngagementEvent, routeLead, scoreLead } from './domain/scoring.ts';

/** The timeline events that count as engagement: forms (by form type) and tracked clicks. */
export function engagementOf(events: TimelineEvent[], since = ''): EngagementEvent[] {
  return events
    .filter((e) => (e.type === 'form' || e.type === 'email-click') && e.at >= since)
    .map((e) => ({ type: e.type === 'form' ? String(e.data?.formType) : e.type, at: e.at }));
}

/** Rescores a lead from its profile and timeline; shared by "Score lead" and "Check engagement". */
export async function rescore(leads: LeadStore, leadId: string, now: Date) {
  const lead = await leads.get(leadId);
  if (!lead) throw new NotFoundError(`Lead ${leadId}`);
  // After a recycle, only engagement since then can requalify the lead: the old demo request already had its turn.
  const events = engagementOf(await leads.listEvents(leadId), lead.engagementSince);
  const score = scoreLead(lead, events, config.scoring, now);
  const route = routeLead(
    score,
    events.map((e) => e.type),
    config.scoring,
  );
  return { lead, score, route };
}
