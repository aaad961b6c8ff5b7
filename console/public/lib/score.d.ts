// Types for score.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).

export declare function scoreLine(score: {
  total: number;
  fit: number;
  engagement: number;
  flags?: string[];
  reasons?: { kind?: string; points: number }[];
}): string;
export declare function eventFields(data: Record<string, unknown>): [string, string, boolean][];
