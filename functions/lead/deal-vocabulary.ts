// The words a lead's timeline shares with its deal: a deal's stages and why a deal was lost. They live here,
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
