import type { NurtureConfig } from '../config/schema.ts';

interface LocalParts {
  weekday: number;
  hour: number;
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function localParts(at: Date, timeZone: string): LocalParts {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: 'numeric',
    minute: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { weekday: WEEKDAYS[get('weekday')] ?? 0, hour: Number(get('hour')), minute: Number(get('minute')) };
}

/**
 * The first moment at or after `from + delayDays` that falls inside business hours in `timeZone`.
 * Walks forward in 15-minute steps (at most a couple of weeks), so DST changes need no special cases.
 */
export function nextSendTime(
  from: Date,
  delayDays: number,
  timeZone: string,
  hours: NurtureConfig['businessHours'],
): Date {
  const QUARTER = 15 * 60_000;
  let t = new Date(from.getTime() + delayDays * 86_400_000);
  for (let i = 0; i < 4 * 24 * 15; i++) {
    const p = localParts(t, timeZone);
    if (hours.days.includes(p.weekday) && p.hour >= hours.startHour && p.hour < hours.endHour) return t;
    // Jump to the next quarter hour boundary.
    t = new Date(Math.floor(t.getTime() / QUARTER) * QUARTER + QUARTER);
  }
  throw new Error('business hours never open: check config/nurture.json businessHours');
}
