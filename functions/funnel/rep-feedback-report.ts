// What reps say, for marketing: the ratings reps gave with their answers, by source, campaign and form (from
// the day counters' `rated:<rating>`, like every funnel figure: no lead read), and their notes in their own
// words (the rep notes' month index: never a scan), newest first. Part of GET /admin/scoring-feedback.
import type { Rating } from '../lead/deal-vocabulary.ts';
import type { RepNote, RepNoteStore } from '../lead/rep-note-store.ts';
import { mapLimit } from '../platform/map-limit.ts';
import type { FunnelStore } from './funnel-store.ts';
import { checkRange, ratingsOf, sumByValue } from './reports.ts';

/** The dimensions marketing reads reps' feedback by. */
export const FEEDBACK_DIMENSIONS = ['source', 'campaign', 'formType'] as const;
export type FeedbackDimension = (typeof FEEDBACK_DIMENSIONS)[number];

/** At most this many notes in one report (the newest); `notesTruncated` says when there were more. */
export const MAX_REPORT_NOTES = 200;

export interface RepVoiceRow {
  /** The dimension's value (`google`, `q4-demo`, `demo-request`, `(none)`). */
  key: string;
  /** Answers that carried a rating. */
  rated: number;
  ratings: Record<Rating, number>;
  /** Deals closed: for the ratings beside won and lost. */
  won: number;
  lost: number;
  noResponse: number;
}

export interface RepFeedback {
  by: Record<FeedbackDimension, RepVoiceRow[]>;
  /** Newest first; each carries its lead's source, campaign and form (personal data: the note). */
  notes: RepNote[];
  notesTruncated: boolean;
}

export async function repFeedbackReport(
  { funnel, repNotes }: { funnel: FunnelStore; repNotes: RepNoteStore },
  q: { from: string; to: string },
): Promise<RepFeedback> {
  const days = checkRange(q);
  const prefixes = FEEDBACK_DIMENSIONS.map((d) => `${d}#`);
  const read = await mapLimit(days, 8, (day) => funnel.read(day, prefixes));
  const by = Object.fromEntries(
    FEEDBACK_DIMENSIONS.map((d) => {
      const sums = sumByValue(read.flatMap((counters) => counters.filter((c) => c.key.startsWith(`${d}#`))));
      const rows = [...sums.entries()]
        .map(([key, v]): RepVoiceRow => {
          const ratings = ratingsOf(v);
          const rated = Object.values(ratings).reduce((s, n) => s + n, 0);
          return { key, rated, ratings, won: v.won ?? 0, lost: v.lost ?? 0, noResponse: v.stale ?? 0 };
        })
        .filter((r) => r.rated + r.won + r.lost + r.noResponse > 0)
        .sort((a, b) => b.rated - a.rated || a.key.localeCompare(b.key));
      return [d, rows];
    }),
  ) as Record<FeedbackDimension, RepVoiceRow[]>;
  const notes = await repNotes.list(q.from, q.to, MAX_REPORT_NOTES + 1);
  return {
    by,
    notes: notes.slice(0, MAX_REPORT_NOTES),
    notesTruncated: notes.length > MAX_REPORT_NOTES,
  };
}
