import type { DealRecord } from './deal-store.ts';

/**
 * When the weekly reminder goes out: Mondays at 14:00 UTC (morning in the Americas, afternoon in EMEA).
 * The EventBridge schedule rule (infra/stack.ts) is built from this expression.
 */
export const REMINDER_SCHEDULE = 'cron(0 14 ? * MON *)';

/**
 * The reminder's week: the UTC date of the Monday that starts the week of `at` (the scheduled event's time,
 * the same on every delivery of that event). A retried or doubled invocation is in the same week.
 */
export function reminderWeek(at: Date): string {
  const day = (at.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const monday = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() - day));
  return monday.toISOString().slice(0, 10);
}

/** The lead's one-off marker for a deal's reminder in a week: claimed before the email goes. */
export const reminderMarker = (dealId: string, week: string) => `reminder#${week}#${dealId}`;

/** An open deal: accepted, no outcome reported, its run still waiting for it. */
export const isOpen = (deal: DealRecord) => deal.stage === 'accepted' && !deal.runEnd;

/**
 * The open deals to remind, by rep, oldest first; reps who turned reminders off, and reps no longer in
 * config/reps.json, are left out.
 */
export function remindersByRep(
  deals: readonly DealRecord[],
  known: (repId: string) => boolean,
  off: ReadonlySet<string>,
): Map<string, DealRecord[]> {
  const byRep = new Map<string, DealRecord[]>();
  const sorted = deals.filter(isOpen).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  for (const deal of sorted) {
    if (off.has(deal.repId) || !known(deal.repId)) continue;
    byRep.set(deal.repId, [...(byRep.get(deal.repId) ?? []), deal]);
  }
  return byRep;
}
