import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type Harness, startHarness, submission } from '#test/fixtures/workflow-harness.ts';

// Double opt-in through the synthesized definition and the real handlers on a real table (config with
// nurture.doubleOptIn on, as a deployment would set it): the confirmation is the only email until the
// click, the click wakes the run and the sequence follows; without a click the run ends "Not confirmed".
vi.mock('#functions/config/bundled.ts', async (importOriginal) => {
  const bundled = await importOriginal<typeof import('#functions/config/bundled.ts')>();
  const { config } = bundled;
  return {
    ...bundled,
    config: {
      ...config,
      nurture: { ...config.nurture, doubleOptIn: { enabled: true, confirmWithinDays: 7 } },
    },
  };
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness(inject('cdkOut'));
});
afterAll(async () => {
  await h?.close();
});

const WAIT = 'Wait for a signal or the next send';
const mailsTo = (to: string) => h.mails.filter((m) => m.to === to || m.to.endsWith(`<${to}>`));

describe('double opt-in, end to end', () => {
  it('the click wakes the run at once and the sequence follows; the confirmation was the only email before it', async () => {
    const { lead, input, name } = submission({ email: 'opt.in@acme-robotics.com', formType: 'newsletter' });
    let before = -1;
    const result = await h.run(input, name, {
      onSignalWait: async (visit) => {
        if (visit !== 1) return;
        before = mailsTo(lead.email).length;
        const link = mailsTo(lead.email)[0]?.links.find((l) => l.includes('/confirm?t='));
        const res = await h.http('ConfirmEmail', 'POST', String(link));
        expect(res.statusCode).toBe(200);
      },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(before).toBe(1);
    expect(result.wakes[0]).toBe('confirm');
    expect(result.path.at(-1)).toBe('Nurtured (stays a marketing lead)');
    const subjects = mailsTo(lead.email).map((m) => m.subject);
    expect(subjects[0]).toMatch(/^Please confirm/);
    expect(subjects.slice(1)).toHaveLength(4);
    expect(subjects[1]).toMatch(/^Welcome/);
    const types = (await h.stores.leads.listEvents(lead.id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['confirmation-sent', 'confirmed', 'emailed']));
    expect((await h.stores.confirmations.get(lead.id))?.confirmedAt).toBeDefined();
  });

  it('without a click the run ends "Not confirmed" after the one email, and the lead is not emailable', async () => {
    const { lead, input, name } = submission({ email: 'no.click@acme-robotics.com', formType: 'newsletter' });
    const result = await h.run(input, name, {});
    expect(result.status).toBe('SUCCEEDED');
    expect(result.path.slice(-4)).toEqual(['Nurture', WAIT, 'Next?', 'Not confirmed (double opt-in)']);
    // Nothing woke it but timers (the wait for the click; a paced send's, when the shared budget held it).
    expect(result.wakes.every((w) => w === 'timer')).toBe(true);
    expect(mailsTo(lead.email)).toHaveLength(1);
    expect((await h.stores.leads.get(lead.id))?.stage).toBe('not-emailable');
  });
});
