// EventBridge schedule expressions (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html)
// for the local bus: `rate(N minute|minutes|hour|hours|day|days)` and `cron(minutes hours day-of-month month
// day-of-week year)` in UTC. Supported in cron fields: `*`, `?`, values, ranges `a-b`, lists `a,b`, steps `*/n`
// and `a/n`, month names JAN-DEC and weekday names SUN-SAT (1 = Sunday, as in AWS). Not `L`, `W` or `#`: a
// rule using them is refused with a clear error, never run at a made-up time. (No installed package reads
// AWS's six-field cron with `?`; this is the small subset the template uses and the tests pin.)

/** The next instant (epoch ms) strictly after `after` at which the schedule fires. */
export type NextFire = (after: number) => number;

export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError';
}

const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * Parses a schedule expression. A rate counts from `origin` (when the rule was put in place: locally, the
 * stack's start), as AWS counts from the rule's creation; a cron is on the UTC calendar.
 */
export function parseSchedule(expression: string, origin: number): NextFire {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = (rate[2] ?? '').replace(/s$/, '');
    if (n < 1 || (n === 1) !== !(rate[2] ?? '').endsWith('s') || !UNIT_MS[unit])
      throw new ScheduleExpressionError(`${expression}: use "rate(1 ${unit})" or "rate(N ${unit}s)"`);
    const every = n * (UNIT_MS[unit] as number);
    return (after) => origin + (Math.floor((after - origin) / every) + 1) * every;
  }
  const cron = /^cron\((.+)\)$/.exec(expression.trim());
  const fields = cron?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6)
    throw new ScheduleExpressionError(`${expression}: not rate(…) or a six-field cron(…)`);
  const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?'))
    throw new ScheduleExpressionError(`${expression}: one of day-of-month and day-of-week must be "?"`);
  const sets = {
    min: field(min, 0, 59, expression),
    hour: field(hour, 0, 23, expression),
    dom: dom === '?' ? undefined : field(dom, 1, 31, expression),
    month: field(month, 1, 12, expression, MONTHS),
    dow: dow === '?' ? undefined : field(dow, 1, 7, expression, DAYS),
    year: field(year, 1970, 2199, expression),
  };
  const minutes = [...sets.min].sort((a, b) => a - b);
  const hours = [...sets.hour].sort((a, b) => a - b);
  return (after) => {
    const start = new Date(after);
    let day = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate());
    // Five years of days: any satisfiable expression fires within them (a year field may rule out all).
    for (let i = 0; i < 366 * 5; i++, day += 86_400_000) {
      const d = new Date(day);
      if (!sets.year.has(d.getUTCFullYear()) || !sets.month.has(d.getUTCMonth() + 1)) continue;
      if (sets.dom && !sets.dom.has(d.getUTCDate())) continue;
      if (sets.dow && !sets.dow.has(d.getUTCDay() + 1)) continue;
      for (const h of hours)
        for (const m of minutes) {
          const t = day + h * 3_600_000 + m * 60_000;
          if (t > after) return t;
        }
    }
    throw new ScheduleExpressionError(`${expression}: never fires in the next five years`);
  };
}

/** One cron field as the set of values it allows. */
function field(text: string, lo: number, hi: number, expression: string, names?: string[]): Set<number> {
  const value = (v: string) => {
    const named = names?.indexOf(v.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + 1 : /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= lo && n <= hi))
      throw new ScheduleExpressionError(`${expression}: "${v}" is not in ${lo}-${hi}`);
    return n;
  };
  const out = new Set<number>();
  for (const part of text.split(',')) {
    if (/[LW#]/i.test(part.replace(/[A-Z]{3}/gi, (w) => (names?.includes(w.toUpperCase()) ? '' : w))))
      throw new ScheduleExpressionError(`${expression}: "${part}" (L, W, #) is not supported locally`);
    const [range = '', step] = part.split('/');
    const [from, to] =
      range === '*'
        ? [lo, hi]
        : range.includes('-')
          ? range.split('-').map(value)
          : [value(range), undefined];
    const last = to ?? (step !== undefined ? hi : (from as number));
    const by = step === undefined ? 1 : Number(step);
    if (!(by >= 1)) throw new ScheduleExpressionError(`${expression}: "${part}" has a bad step`);
    for (let v = from as number; v <= (last as number); v += by) out.add(v);
  }
  return out;
}
