// How long each signed link lives, derived from the same settings the workflow's waits come from
// (infra/stack.ts builds "Await rep acceptance" from `reps.sla.acceptWithinHours` and "Await deal outcome"
// from `reps.sla.closeWithinDays`), so a link and the wait it serves cannot drift apart again.
// docs/architecture.md, "Links live as long as their wait", has the reasoning.

const HOUR_S = 3600;
const DAY_S = 86_400;
/** A tracked click only records engagement (and then redirects): a quarter is what scoring still weighs. */
export const CLICK_LINK_DAYS = 90;
/** A site visitor id (a tracked click hands it to the site, examples/track.js): a year of visits. */
export const VISITOR_ID_DAYS = 365;
/** The rep's "stop/resume these reminders" links: a reminder may be read long after it came. */
export const REMINDER_SETTING_LINK_DAYS = 365;

/** The settings a link's life depends on (a structural slice of HandoffConfig). */
export interface LinkLifetimeSettings {
  app: { links: { marginDays: number }; data: { leadRetentionDays: number } };
  reps: { sla: { acceptWithinHours: number; closeWithinDays: number } };
}

/** Seconds each kind of link lives from the moment it is signed. */
export interface LinkLifetimes {
  /** Accept: the acceptance wait (the rep SLA) and the margin. */
  accept: number;
  /**
   * Won / lost: signed when the lead is assigned, before the outcome wait starts (at acceptance, up to the
   * SLA later), so the acceptance wait, the outcome wait and the margin.
   */
  outcome: number;
  /** Unsubscribe: as long as anything of the lead is kept (and so as long as it can be emailed). */
  unsubscribe: number;
  click: number;
  /** The rep's reminder on/off links. */
  reminders: number;
}

/** The waits, in seconds, as the workflow's timeouts are built from the same settings. */
export function waitsOf(c: LinkLifetimeSettings) {
  const acceptance = c.reps.sla.acceptWithinHours * HOUR_S;
  return { acceptance, outcome: c.reps.sla.closeWithinDays * DAY_S };
}

export function linkLifetimes(c: LinkLifetimeSettings): LinkLifetimes {
  const margin = c.app.links.marginDays * DAY_S;
  const waits = waitsOf(c);
  return {
    accept: waits.acceptance + margin,
    outcome: waits.acceptance + waits.outcome + margin,
    unsubscribe: c.app.data.leadRetentionDays * DAY_S,
    click: CLICK_LINK_DAYS * DAY_S,
    reminders: REMINDER_SETTING_LINK_DAYS * DAY_S,
  };
}

/**
 * What makes a link end before the wait it serves, as config problems (`config/<file>.json: field: …`).
 * The lifetimes are derived, so this guards the derivation, and the one setting that can still cut a
 * link short: the lead's retention, which must outlast a deal's waits (a won link for a lead whose items
 * expired mid-wait would close a deal with nothing behind it, and its unsubscribe link would die with it).
 */
export function linkLifetimeProblems(c: LinkLifetimeSettings): string[] {
  const life = linkLifetimes(c);
  const waits = waitsOf(c);
  const problems: string[] = [];
  if (life.accept < waits.acceptance)
    problems.push('config/app.json: links: the accept link would expire before reps.sla.acceptWithinHours');
  if (life.outcome < waits.acceptance + waits.outcome)
    problems.push(
      'config/app.json: links: the won/lost links would expire before reps.sla.closeWithinDays is over',
    );
  if (life.unsubscribe < waits.acceptance + waits.outcome + c.app.links.marginDays * DAY_S)
    problems.push(
      `config/app.json: data.leadRetentionDays: must be at least ${Math.ceil((waits.acceptance + waits.outcome) / DAY_S) + c.app.links.marginDays} (the acceptance and outcome waits of config/reps.json and links.marginDays): a lead must outlive its deal's links`,
    );
  return problems;
}
