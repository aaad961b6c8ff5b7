import { createHash } from 'node:crypto';
import type { NurtureConfig } from '../config/schema.ts';

interface LocalParts {
  weekday: number;
  hour: number;
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/**
 * One formatter per time zone, kept: building an Intl.DateTimeFormat loads the zone's rules and costs
 * far more than formatting with it, and nextSendTime formats up to hundreds of quarter hours a call
 * (a profile of the local stack under load found the construction 6 % of all its CPU).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function localParts(at: Date, timeZone: string): LocalParts {
  const parts = formatterOf(timeZone).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { weekday: WEEKDAYS[get('weekday')] ?? 0, hour: Number(get('hour')), minute: Number(get('minute')) };
}

/**
 * Where `key` (a lead id) falls in any window, as a fraction in [0, 1): the same for the same key every
 * time, spread evenly over keys (a hash, not Math.random), so held sends and rechecks do not bunch.
 */
export function spreadOf(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/** Spreads sends held for the opening over its first `windowMinutes`, each lead at its own offset. */
export interface OpeningSpread {
  key: string;
  windowMinutes: number;
}

/**
 * The first moment at or after `from + delayDays` that falls inside business hours in `timeZone`.
 * Walks forward in 15-minute steps (at most a couple of weeks), so DST changes need no special cases.
 * A time that had to wait for the opening lands `spread` into it (within the open hours), not on the
 * opening itself: every overnight and weekend send would otherwise go at 09:00:00.
 */
export function nextSendTime(
  from: Date,
  delayDays: number,
  timeZone: string,
  hours: NurtureConfig['businessHours'],
  spread?: OpeningSpread,
): Date {
  const QUARTER = 15 * 60_000;
  let t = new Date(from.getTime() + delayDays * 86_400_000);
  for (let i = 0; i < 4 * 24 * 15; i++) {
    const p = localParts(t, timeZone);
    if (hours.days.includes(p.weekday) && p.hour >= hours.startHour && p.hour < hours.endHour) {
      if (i === 0 || !spread) return t;
      const openMinutes = (hours.endHour - p.hour) * 60 - p.minute;
      const window = Math.max(0, Math.min(spread.windowMinutes, openMinutes - 1));
      return new Date(t.getTime() + Math.floor(spreadOf(spread.key) * window * 60_000));
    }
    // Jump to the next quarter hour boundary.
    t = new Date(Math.floor(t.getTime() / QUARTER) * QUARTER + QUARTER);
  }
  throw new Error('business hours never open: check config/nurture.json businessHours');
}
