import { describe, expect, it, vi } from 'vitest';
import { type TimelineEvent, TimelineEventError, timeline } from '#functions/lead/timeline.ts';
import { sendOnce } from '#functions/mail/send-once.ts';
import { memoryLeads, memorySends } from '#test/fixtures/memory-stores.ts';

const NOW = new Date('2026-12-02T15:00:00.000Z');
const job = (event?: TimelineEvent) => ({
  leadId: 'ld-once',
  cycle: 0,
  step: 1,
  now: NOW,
  deadline: new Date(NOW.getTime() + 10_000),
  expiresAt: 2_000_000_000,
  ...(event ? { event } : {}),
});

describe('sendOnce: the send marker and the timeline event it carries', () => {
  it('writes the event with the marker when this attempt sends, and not again when a retry finds it sent', async () => {
    const leads = memoryLeads();
    const sends = memorySends(leads);
    const event = timeline.emailed(NOW.toISOString(), { template: 'welcome', cycle: 0, step: 1 });
    const send = vi.fn(async () => 'msg-1');
    expect(await sendOnce({ sends }, job(event), send)).toEqual({
      sent: true,
      messageId: 'msg-1',
      now: true,
    });
    expect(await sendOnce({ sends }, job(event), send)).toEqual({
      sent: true,
      messageId: 'msg-1',
      now: false,
    });
    expect(send).toHaveBeenCalledTimes(1);
    expect(await leads.listEvents('ld-once')).toEqual([event]);
  });

  it('refuses a malformed event before anything is claimed or sent', async () => {
    const leads = memoryLeads();
    const sends = memorySends(leads);
    const bad = { type: 'emailed', at: NOW.toISOString(), data: { template: 7 } } as unknown as TimelineEvent;
    const send = vi.fn(async () => 'msg-1');
    await expect(sendOnce({ sends }, job(bad), send)).rejects.toThrow(TimelineEventError);
    expect(send).not.toHaveBeenCalled();
    expect(sends.markers.size).toBe(0);
  });
});
