// The report range controls (from, to, quick presets, optional breakdown), kept in the page's URL.
import { now as clockNow } from './clock.js';
import { h } from './dom.js';
import { setQuery } from './router.js';

const day = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * @param {{from?: string, to?: string, by?: string}} current
 * @param {{dimensions?: readonly string[], onChange: (q: {from?: string, to?: string, by?: string}) => void}} opts
 */
export function rangeControls(current, { dimensions, onChange }) {
  const from = h('input', {
    type: 'date',
    name: 'from',
    value: current.from ?? '',
    'aria-label': 'From (UTC day)',
  });
  const to = h('input', { type: 'date', name: 'to', value: current.to ?? '', 'aria-label': 'To (UTC day)' });
  const by = dimensions
    ? h(
        'select',
        { name: 'by', 'aria-label': 'Break down by' },
        h('option', { value: '', text: 'No breakdown' }),
        dimensions.map((d) => h('option', { value: d, text: `By ${d}`, selected: d === current.by })),
      )
    : null;
  const emit = () => {
    const q = { from: from.value || undefined, to: to.value || undefined, by: by?.value || undefined };
    setQuery(q);
    onChange(q);
  };
  const preset = (days) =>
    h('button', {
      type: 'button',
      class: 'btn small',
      text: `${days} d`,
      onclick: () => {
        const now = clockNow();
        to.value = day(now);
        from.value = day(now - (days - 1) * 86_400_000);
        emit();
      },
    });
  for (const el of [from, to, by]) el?.addEventListener('change', emit);
  const el = h('div', { class: 'range' }, preset(7), preset(30), preset(90), from, '–', to, by);
  /** Shows the range a report actually covered (the defaults, when none was asked for). */
  el.showRange = (report) => {
    from.value = report.from;
    to.value = report.to;
  };
  return el;
}
