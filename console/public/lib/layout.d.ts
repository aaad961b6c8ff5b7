// Types for layout.js (plain JavaScript served to the browser as is; unit-tested from TypeScript).
import type { AslEdge, AslLike } from './asl-edges.js';

export interface LayoutEdge extends AslEdge {
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

export declare function layoutAsl(definition: AslLike): {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  width: number;
  height: number;
};
