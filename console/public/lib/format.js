// Formatting: times (relative and absolute), durations, money, rates, status badges.
import { now as clockNow } from './clock.js';
import { h } from './dom.js';

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });
const dtf = new Intl.DateTimeFormat('en', {
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});
const money0 = new Intl.NumberFormat('en', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const int = new Intl.NumberFormat('en');

/** "12 s ago", "in 3 h", "yesterday". */
export function relTime(iso, now = clockNow()) {
  if (!iso) return '';
  const diff = (Date.parse(iso) - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 5) return 'just now';
  const [value, unit] =
    abs < 60
      ? [diff, 'second']
      : abs < 3600
        ? [diff / 60, 'minute']
        : abs < 86400
          ? [diff / 3600, 'hour']
          : abs < 86400 * 30
            ? [diff / 86400, 'day']
            : abs < 86400 * 365
              ? [diff / (86400 * 30), 'month']
              : [diff / (86400 * 365), 'year'];
  return rtf.format(Math.round(value), unit);
}

/** A <time> showing a relative time, the absolute one on hover; `data-rel` lets the page refresh it. */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('time', { datetime: iso, title: absTime(iso), 'data-rel': iso, text: relTime(iso) });
}

/** Refreshes every relative time under `root`. */
export function refreshTimes(root) {
  for (const t of root.querySelectorAll('time[data-rel]')) t.textContent = relTime(t.dataset.rel);
}

export function absTime(iso) {
  return iso ? dtf.format(new Date(iso)) : '';
}

/** 850 ms, 4.2 s, 3 min 5 s, 2 h 10 min, 3 d 4 h. */
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const sec = ms / 1000;
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 1 : 0)} s`;
  const min = Math.floor(sec / 60);
  if (min < 60) return `${min} min ${Math.round(sec % 60)} s`;
  const hours = Math.floor(min / 60);
  if (hours < 48) return `${hours} h ${min % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/**
 * A median in hours as a reader says it: "< 1 s", "42 s", "4.5 min", "12 min", "2.3 h", "3.1 d" (one
 * decimal under 10 of a unit, none above).
 */
export function hours(h) {
  if (h === null || h === undefined || Number.isNaN(h)) return '—';
  const sec = h * 3600;
  if (sec < 1) return '< 1 s';
  const one = (v, unit) => `${v < 10 ? Math.round(v * 10) / 10 : Math.round(v)} ${unit}`;
  if (sec < 59.5) return `${Math.round(sec)} s`;
  if (sec < 3600 - 30) return one(sec / 60, 'min');
  if (sec < 86400 - 1800) return one(sec / 3600, 'h');
  return one(sec / 86400, 'd');
}

export function money(n) {
  return n === undefined || n === null ? '—' : money0.format(n);
}

export function count(n) {
  return n === undefined || n === null ? '—' : int.format(n);
}

/** 0.4237 → "42.4 %", null → "—". */
export function pct(rate, digits = 1) {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(digits)} %`;
}

const STATUS_LABEL = {
  RUNNING: 'Running',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  TIMED_OUT: 'Timed out',
  ABORTED: 'Stopped',
  PENDING_REDRIVE: 'Redriving',
};

export function statusBadge(status) {
  return h('span', {
    class: `badge status-${String(status).toLowerCase().replace('_', '-')}`,
    text: STATUS_LABEL[status] ?? status,
  });
}

export function stageBadge(stage) {
  return h('span', { class: `badge stage stage-${stage}`, text: stage });
}

/** A short id: `ld-a7daacb6626b62bfbd6f` → `ld-a7daacb6…`. */
export function shortId(id, keep = 11) {
  return id && id.length > keep + 2 ? `${id.slice(0, keep)}…` : (id ?? '');
}
