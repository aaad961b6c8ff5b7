import type { ScoringConfig } from '../config/schema.ts';
import type { Lead } from './lead.ts';

export interface EngagementEvent {
  /** A form type (`demo-request`) or an event type from `intent.events` (`email-click`). */
  type: string;
  at: string;
}

export interface ScoreReason {
  kind: 'fit' | 'engagement' | 'negative';
  label: string;
  points: number;
}

export type Route = 'disqualify' | 'sales-ready' | 'nurture';

export interface Score {
  fit: number;
  engagement: number;
  total: number;
  grade: string;
  reasons: ScoreReason[];
  /** Hard stops found: spam, disposable domain, competitor. Any one disqualifies. */
  flags: ('spam' | 'disposable-domain' | 'competitor')[];
  rulesVersion: string;
  scoredAt: string;
}

const DAY_MS = 86_400_000;
const clamp = (n: number) => Math.max(0, Math.min(100, Math.round(n)));

function fitReasons(lead: Lead, rules: ScoringConfig): ScoreReason[] {
  const reasons: ScoreReason[] = [];
  if (lead.title) {
    const hit = rules.fit.titleSeniority.find((r) => new RegExp(r.pattern, 'i').test(lead.title ?? ''));
    if (hit) reasons.push({ kind: 'fit', label: `Title: ${hit.label}`, points: hit.points });
  }
  if (lead.companySize) {
    const size = lead.companySize;
    const hit = [...rules.fit.companySize].sort((a, b) => b.min - a.min).find((r) => size >= r.min);
    if (hit) reasons.push({ kind: 'fit', label: `Company size: ${hit.label}`, points: hit.points });
  }
  if (lead.industry) {
    const key = lead.industry.toLowerCase();
    const points = rules.fit.industries[key];
    if (points !== undefined) reasons.push({ kind: 'fit', label: `Industry: ${key}`, points });
  }
  if (lead.country) {
    const points = rules.fit.countries[lead.country];
    if (points !== undefined) reasons.push({ kind: 'fit', label: `Country: ${lead.country}`, points });
  }
  return reasons;
}

function negativeReasons(
  lead: Lead,
  rules: ScoringConfig,
): { reasons: ScoreReason[]; flags: Score['flags'] } {
  const reasons: ScoreReason[] = [];
  const flags: Score['flags'] = [];
  const domain = lead.emailDomain;
  const inList = (list: string[]) => list.some((d) => domain === d || domain.endsWith(`.${d}`));
  if (inList(rules.negative.disposableDomains)) {
    flags.push('disposable-domain');
    reasons.push({ kind: 'negative', label: 'Disposable email domain', points: -100 });
  } else if (inList(rules.negative.freeMailDomains)) {
    reasons.push({ kind: 'negative', label: 'Free email domain', points: rules.negative.freeMailPoints });
  }
  if (inList(rules.negative.competitorDomains)) {
    flags.push('competitor');
    reasons.push({ kind: 'negative', label: 'Competitor domain', points: -100 });
  }
  const haystack = [lead.firstName, lead.lastName, lead.company, lead.message].filter(Boolean).join(' ');
  const spam = rules.negative.spamPatterns.find((p) => new RegExp(p, 'i').test(haystack));
  if (spam) {
    flags.push('spam');
    reasons.push({ kind: 'negative', label: 'Looks like spam or a test submission', points: -100 });
  }
  return { reasons, flags };
}

/** Engagement: each event's points halve every `halfLifeDays`, so old interest fades. */
export function engagementReasons(events: EngagementEvent[], rules: ScoringConfig, now: Date): ScoreReason[] {
  return events.flatMap((e) => {
    const base =
      rules.intent.formTypes[e.type] ??
      rules.intent.events[e.type] ??
      (e.type.startsWith(VISIT) ? rules.intent.pages[e.type.slice(VISIT.length)] : undefined);
    if (base === undefined) return [];
    const ageDays = Math.max(0, (now.getTime() - Date.parse(e.at)) / DAY_MS);
    const points = Math.round(base * 0.5 ** (ageDays / rules.intent.halfLifeDays));
    if (points === 0) return [];
    const age = ageDays < 1 ? 'today' : `${Math.floor(ageDays)}d ago`;
    return [{ kind: 'engagement' as const, label: `${e.type} (${age})`, points }];
  });
}

/** The engagement event of a person's reply to a nurture email (`intent.events.reply` points): it also goes to sales. */
export const REPLY = 'reply';
const ENGAGEMENT = new Set(['form', 'email-click', 'page-visit', 'replied']);

/** An engagement event of a visit to a high-intent page: `visit /pricing`. */
export const VISIT = 'visit ';

/**
 * The timeline events that count as engagement: forms (by form type), tracked clicks and visits to
 * high-intent pages (`visit /pricing`), from `since` on
 * (after a recycle only newer engagement counts). Shared by rescoring and the backtest's replay.
 */
export function engagementOf(
  events: readonly { type: string; at: string; data?: Record<string, unknown> }[],
  since = '',
): EngagementEvent[] {
  return events
    .filter((e) => ENGAGEMENT.has(e.type) && e.at >= since)
    .map((e) => ({
      type:
        e.type === 'form'
          ? String(e.data?.formType)
          : e.type === 'page-visit'
            ? `${VISIT}${String(e.data?.path)}`
            : e.type === 'replied'
              ? REPLY
              : e.type,
      at: e.at,
    }));
}

export function gradeFor(total: number, rules: ScoringConfig): string {
  return [...rules.grades].sort((a, b) => b.min - a.min).find((g) => total >= g.min)?.grade ?? 'D';
}

/** Scores a lead as fit (who they are) and engagement (what they did), each 0–100, with every reason. */
export function scoreLead(lead: Lead, events: EngagementEvent[], rules: ScoringConfig, now: Date): Score {
  const fit = fitReasons(lead, rules);
  const engagement = engagementReasons(events, rules, now);
  const negative = negativeReasons(lead, rules);
  const penalty = negative.reasons.reduce((s, r) => s + r.points, 0);
  const fitScore = clamp(fit.reduce((s, r) => s + r.points, 0) + penalty);
  const engagementScore = clamp(engagement.reduce((s, r) => s + r.points, 0));
  const total = negative.flags.length ? 0 : clamp((fitScore + engagementScore) / 2);
  return {
    fit: fitScore,
    engagement: engagementScore,
    total,
    grade: gradeFor(total, rules),
    reasons: [...fit, ...engagement, ...negative.reasons],
    flags: negative.flags,
    rulesVersion: rules.version,
    scoredAt: now.toISOString(),
  };
}

/** Routing: hard stops and the floor disqualify; the sales threshold or a high-intent form hands off. */
export function routeLead(score: Score, formTypes: string[], rules: ScoringConfig): Route {
  if (score.flags.length > 0 || score.total < rules.thresholds.disqualifyBelow) return 'disqualify';
  if (score.total >= rules.thresholds.salesReady) return 'sales-ready';
  // A person wrote back: a human takes it from here, whatever the score.
  if (formTypes.includes(REPLY)) return 'sales-ready';
  if (formTypes.some((f) => rules.intent.highIntentForms.includes(f))) return 'sales-ready';
  return 'nurture';
}
