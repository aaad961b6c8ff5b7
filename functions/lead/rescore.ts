import { config } from '../config/bundled.ts';
import { NotFoundError } from '../platform/errors.ts';
import type { LeadRecord, LeadStore } from './lead-store.ts';
import { engagementOf, routeLead, scoreLead } from './scoring.ts';

/**
 * Rescores a lead from its profile and timeline; shared by "Capture & score lead" and "Nurture" (on every
 * wake-up). `read`: the profile when the caller has just read it (Nurture's signal clear returns it).
 */
export async function rescore(leads: LeadStore, leadId: string, now: Date, read?: LeadRecord) {
  const lead = read ?? (await leads.get(leadId));
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
