// Types for layout-route.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).
import type { LayoutEdge, LayoutNode } from './layout.js';

export declare function routeEdges(
  nodes: Map<string, LayoutNode | { id: string; kind: 'dummy'; x: number; y: number }>,
  edges: (Omit<LayoutEdge, 'points'> & { chain?: string[] })[],
): LayoutEdge[];
export declare function pathThrough(points: { x: number; y: number }[]): string;
