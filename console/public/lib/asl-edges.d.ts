// Types for asl-edges.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).

export declare const START: '__start__';
export declare const END: '__end__';

export interface AslLike {
  StartAt: string;
  States: Record<string, Record<string, unknown> & { Type: string }>;
}

/** A transition of the definition, as edgesOf finds it (before the layout marks and routes it). */
export interface AslEdge {
  from: string;
  to: string;
  kind: 'next' | 'choice' | 'default' | 'catch' | 'end';
  label?: string;
  title?: string;
}

export declare function edgesOf(definition: AslLike): AslEdge[];
export declare function conditionLabel(rule: unknown, short?: boolean): string;
export declare function linesOf(label: string): string[];
