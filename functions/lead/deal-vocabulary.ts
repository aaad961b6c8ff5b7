// The words a lead's timeline shares with its deal: a deal's stages, why a deal was lost and how the rep rated the lead. They live here,
// under lead/, because the lead's timeline records its deal's close (lead/timeline.ts) and lead/ stands below
// deal/ in the import map; deal/deal.ts re-exports them with the deal's state machine.

export const DEAL_STAGES = ['assigned', 'accepted', 'won', 'lost', 'stale'] as const;

export const LOST_REASONS = [
  'not-now',
  'no-budget',
  'timing',
  'chose-competitor',
  'no-fit',
  'no-response',
  'other',
] as const;

/** The rep's rating of the lead's quality, with any answer (accept, won, lost): scoring feedback counts it. */
export const RATINGS = ['good-fit', 'wrong-fit', 'wrong-timing'] as const;
export type Rating = (typeof RATINGS)[number];

/** At most this many characters of a rep's note (what they learned: the customer's preferences and challenges). */
export const MAX_NOTE = 1000;
