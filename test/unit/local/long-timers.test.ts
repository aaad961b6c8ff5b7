import { describe, expect, it } from 'vitest';
import '#local/long-timers.ts';

describe('long timer shim (aws-local-stepfunctions timeouts above ~24.8 days)', () => {
  it('does not fire a 90-day timer at once', async () => {
    let fired = false;
    const t = setTimeout(() => {
      fired = true;
    }, 90 * 86_400_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(fired).toBe(false);
    clearTimeout(t);
  });

  it('still fires short timers and can clear long ones', async () => {
    const order: string[] = [];
    const long = setTimeout(() => order.push('long'), 2 ** 31 + 5);
    setTimeout(() => order.push('short'), 5);
    await new Promise((r) => setTimeout(r, 30));
    clearTimeout(long);
    expect(order).toEqual(['short']);
  });
});
