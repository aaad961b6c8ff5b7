// Types for layout.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).

export declare const START: '__start__';
export declare const END: '__end__';

export interface AslLike {
  StartAt: string;
  States: Record<string, Record<string, unknown> & { Type: string }>;
}

export interface LayoutEdge {
  from: string;
  to: string;
  kind: 'next' | 'choice' | 'default' | 'catch' | 'end';
  label?: string;
  title?: string;
  back?: boolean;
  self?: boolean;
  labelLines?: string[];
  points: { x: number; y: number }[];
  labelAt?: { x: number; y: number; anchor: 'start' | 'middle' };
}

export interface LayoutNode {
  id: string;
  label: string;
  lines: string[];
  type: string;
  kind: 'start' | 'end' | 'state';
  x: number;
  y: number;
  w: number;
  h: number;
  layer: number;
  padRight?: number;
}

export declare function edgesOf(definition: AslLike): Omit<LayoutEdge, 'points'>[];
export declare function conditionLabel(rule: unknown, short?: boolean): string;
export declare function linesOf(label: string): string[];
export declare function layoutAsl(definition: AslLike): {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  width: number;
  height: number;
};
export declare function isotonic(values: number[], weights: number[]): number[];
export declare function pathThrough(points: { x: number; y: number }[]): string;
