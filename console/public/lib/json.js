// JSON shown as text with token colours: built from text nodes, so strings from leads stay text.
import { h } from './dom.js';

/** A <pre> with `value` (an object, or a JSON text) pretty-printed; text that is not JSON is shown as is. */
export function jsonBlock(value, { empty = 'Nothing recorded' } = {}) {
  if (value === undefined || value === null || value === '')
    return h('p', { class: 'muted small', text: empty });
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return h('pre', { class: 'json', text: value });
    }
  }
  const pre = h('pre', { class: 'json' });
  const text = JSON.stringify(parsed, null, 2);
  // Keys, strings, numbers, booleans and null, each in a span of its own class.
  const token = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (const m of text.matchAll(token)) {
    if (m.index > last) pre.append(text.slice(last, m.index));
    if (m[1] !== undefined) {
      pre.append(h('span', { class: m[2] ? 'j-key' : 'j-str', text: m[1] }));
      if (m[2]) pre.append(m[2]);
    } else if (m[3] !== undefined) pre.append(h('span', { class: 'j-lit', text: m[3] }));
    else pre.append(h('span', { class: 'j-num', text: m[4] }));
    last = m.index + m[0].length;
  }
  if (last < text.length) pre.append(text.slice(last));
  return pre;
}
