// Types for layout-order.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).

/** A node while the layout works on it (a state, Start, End, or a dummy on a long edge). */
interface WorkNode {
  id: string;
  kind: string;
  w: number;
  x: number;
  layer: number;
  padRight?: number;
}

export declare const GAP_X: number;
export declare function orderLayers(
  nodes: Map<string, WorkNode>,
  order: string[],
  links: { u: string; v: string }[],
): { layers: string[][]; up: Map<string, string[]>; down: Map<string, string[]> };
export declare function placeX(
  nodes: Map<string, WorkNode>,
  layers: string[][],
  up: Map<string, string[]>,
  down: Map<string, string[]>,
): void;
export declare function isotonic(values: number[], weights: number[]): number[];
