import { describe, expect, it } from 'vitest';
import { conditionLabel, edgesOf, START } from '#console/public/lib/asl-edges.js';
import { layoutAsl } from '#console/public/lib/layout.js';
import { isotonic } from '#console/public/lib/layout-order.js';
import { pathThrough } from '#console/public/lib/layout-route.js';

/** A small journey with what the real one has: a Choice, a loop through a wait, a Catch, a self-loop. */
const definition = {
  StartAt: 'Capture',
  States: {
    Capture: { Type: 'Task', Next: 'Route' },
    Route: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.capture.route', StringEquals: 'disqualify', Next: 'Disqualified' },
        { Variable: '$.capture.route', StringEquals: 'sales-ready', Next: 'Assign rep' },
      ],
      Default: 'Nurture',
    },
    Nurture: { Type: 'Task', Next: 'Next?' },
    'Next?': {
      Type: 'Choice',
      Choices: [
        { Variable: '$.nurture.next', StringEquals: 'wait', Next: 'Wait' },
        { Variable: '$.nurture.next', StringEquals: 'sales-ready', Next: 'Assign rep' },
      ],
      Default: 'Nurtured',
    },
    Wait: { Type: 'Task', Next: 'Nurture', Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Nurture' }] },
    'Assign rep': {
      Type: 'Task',
      Next: 'Close',
      Catch: [{ ErrorEquals: ['CapacityFreed'], Next: 'Assign rep' }],
    },
    Close: { Type: 'Task', End: true },
    Disqualified: { Type: 'Succeed' },
    Nurtured: { Type: 'Succeed' },
  },
};

describe('console graph layout', () => {
  it('finds every transition: Next, Choices with their conditions, Default, Catch and End', () => {
    const edges = edgesOf(definition);
    const find = (from: string, to: string) => edges.find((e) => e.from === from && e.to === to);
    expect(find(START, 'Capture')).toBeDefined();
    expect(find('Route', 'Assign rep')?.label).toBe('route = sales-ready');
    expect(find('Route', 'Nurture')?.label).toBe('otherwise');
    // Next and Catch to the same state are one edge with the catch named.
    expect(find('Wait', 'Nurture')?.label).toBe('catch Timeout');
    expect(find('Assign rep', 'Assign rep')?.kind).toBe('catch');
    expect(edges.filter((e) => e.to === '__end__').map((e) => e.from)).toEqual(['Close']);
  });

  it('lays states top to bottom in flow order, loops drawn back up, no two nodes overlapping', () => {
    const { nodes, edges, width, height } = layoutAsl(definition);
    const at = (id: string) => nodes.find((n) => n.id === id);
    const y = (id: string) => at(id)?.y ?? Number.NaN;
    expect(y('Capture')).toBeLessThan(y('Route'));
    expect(y('Route')).toBeLessThan(y('Nurture'));
    expect(y('Nurture')).toBeLessThan(y('Next?'));
    expect(y('Next?')).toBeLessThan(y('Wait'));
    expect(y('Assign rep')).toBeLessThan(y('Close'));
    expect(edges.find((e) => e.from === 'Wait' && e.to === 'Nurture')?.back).toBe(true);
    expect(edges.find((e) => e.from === 'Assign rep' && e.to === 'Assign rep')?.self).toBe(true);
    for (const a of nodes) {
      expect(a.x - a.w / 2).toBeGreaterThanOrEqual(0);
      expect(a.x + a.w / 2).toBeLessThanOrEqual(width);
      expect(a.y + a.h / 2).toBeLessThanOrEqual(height);
      for (const b of nodes) {
        if (a === b || a.layer !== b.layer) continue;
        expect(Math.abs(a.x - b.x), `${a.id} and ${b.id}`).toBeGreaterThanOrEqual((a.w + b.w) / 2);
      }
    }
    for (const e of edges) expect(pathThrough(e.points)).toMatch(/^M[\d.-]+,[\d.-]+( C[\d., -]+)+$/);
  });

  it('describes Choice rules briefly, and in full for the tooltip', () => {
    expect(conditionLabel({ Variable: '$.assignment.reassignmentsLeft', NumericGreaterThan: 0 }, true)).toBe(
      'reassignmentsLeft > 0',
    );
    expect(conditionLabel({ Variable: '$.close.recycle', BooleanEquals: true })).toBe(
      '$.close.recycle = true',
    );
    expect(
      conditionLabel({
        And: [{ Variable: '$.a', IsPresent: true }, { Not: { Variable: '$.b', StringEquals: 'x' } }],
      }),
    ).toBe('$.a present and not ($.b = "x")');
  });

  it('places nodes by isotonic regression: in order, as close to their targets as the order allows', () => {
    expect(isotonic([3, 1, 2], [1, 1, 1])).toEqual([2, 2, 2]);
    expect(isotonic([1, 2, 3], [1, 1, 1])).toEqual([1, 2, 3]);
  });
});
