// What `npm run demo` can show at a stack's time scale. What a form answers at once (the assignment email
// and the rep's links, a disqualification) happens within seconds at any scale. A nurture email waits for
// the lead's business hours, which at 1× may be days away (a Saturday morning in London: Monday 09:00).
// So the demo asks the run what its Nurture step decided — the welcome email sent, or held for
// `waitSeconds` of stack time — and skips what cannot happen before its timeout, saying why and how to
// see it, instead of waiting for it and failing.
import { GetExecutionHistoryCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { NurtureConfig } from '../functions/config/schema.ts';

/** What the first Nurture step of a run decided about the welcome email. */
export type Welcome = { sent: true } | { sent: false; waitSeconds: number };

/** The run's first Nurture decision, or undefined while it has not made one. */
export async function welcomeOf(sfn: SFNClient, executionArn: string): Promise<Welcome | undefined> {
  const { events = [] } = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const exited = events.find(
    (e) => e.type === 'TaskStateExited' && e.stateExitedEventDetails?.name === 'Nurture',
  );
  if (!exited) return undefined;
  const out = JSON.parse(exited.stateExitedEventDetails?.output ?? '{}') as {
    nurture?: { step?: number; next?: string; waitSeconds?: number };
  };
  const n = out.nurture;
  if ((n?.step ?? 0) >= 1) return { sent: true };
  if (n?.next === 'wait' && typeof n.waitSeconds === 'number')
    return { sent: false, waitSeconds: n.waitSeconds };
  // Ended or routed elsewhere before any email (no consent, say): nothing will be held for it.
  return { sent: true };
}

/** Real seconds a held email takes at `timeScale` (undefined: the scale is unknown). */
export function realSeconds(w: Welcome, timeScale: number | undefined): number | undefined {
  if (w.sent) return 0;
  return timeScale ? w.waitSeconds / timeScale : undefined;
}

/** `2 d 3 h`, `4 h 5 min`, `6 min`, `12 s`. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d) return h ? `${d} d ${h} h` : `${d} d`;
  if (h) return m ? `${h} h ${m} min` : `${h} h`;
  if (m) return `${m} min`;
  return `${s} s`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** `Mon–Fri 09:00–17:00` (or the days listed). */
export function businessHours(h: NurtureConfig['businessHours']): string {
  const days = [...h.days].sort((a, b) => a - b);
  const contiguous = days.every((d, i) => i === 0 || d === (days[i - 1] ?? 0) + 1);
  const named =
    contiguous && days.length > 2
      ? `${DAYS[days[0] ?? 0]}–${DAYS[days.at(-1) ?? 0]}`
      : days.map((d) => DAYS[d]).join(', ');
  const hh = (n: number) => `${String(n).padStart(2, '0')}:00`;
  return `${named} ${hh(h.startHour)}–${hh(h.endHour)}`;
}

/** What to run to see the part a slow stack skips: the demo's own fast stack, or a fast npm start. */
export const FAST_COMMANDS =
  '   To see it: npm run demo -- --own   (the demo starts its own stack at 86400×, a day per second, and removes it afterwards)\n' +
  '          or: npm start -- --time-scale 86400 --port 3100 --data .handoff-fast, then npm run demo -- --data .handoff-fast';
