// The transitions of an Amazon States Language definition, as the graph draws them: Start → StartAt, each
// state's Next, Choices (with their conditions as short labels) and Default, Catch targets, End. Pure: no
// DOM, so it is unit-tested in Node; layout.js lays them out.

export const START = '__start__';
export const END = '__end__';

/**
 * The edges of a definition: Start → StartAt; each state's Next, Choices and Default; Catch targets; End
 * (End: true, Succeed, Fail) → End. Edges between the same two states are merged, their labels joined.
 * @param {{StartAt: string, States: Record<string, any>}} definition
 */
export function edgesOf(definition) {
  /** @type {Map<string, {from: string, to: string, kind: string, label?: string, title?: string}>} */
  const edges = new Map();
  const add = (from, to, kind, label, title) => {
    if (!to || (to !== END && !(to in definition.States))) return;
    const key = `${from}\u0000${to}`;
    const e = edges.get(key);
    if (!e) {
      edges.set(key, {
        from,
        to,
        kind,
        ...(label ? { label } : {}),
        ...(title || label ? { title: title ?? label } : {}),
      });
      return;
    }
    if (label) {
      e.label = e.label ? `${e.label} · ${label}` : label;
      e.title = e.title ? `${e.title}\n${title ?? label}` : (title ?? label);
    }
  };
  add(START, definition.StartAt, 'next');
  for (const [name, st] of Object.entries(definition.States)) {
    if (st.Type === 'Choice') {
      for (const c of st.Choices ?? [])
        add(name, c.Next, 'choice', conditionLabel(c, true), conditionLabel(c));
      if (st.Default) add(name, st.Default, 'default', 'otherwise');
    } else if (st.Next) add(name, st.Next, 'next');
    // Succeed and Fail are ends in themselves (drawn as such); an End node collects only `End: true` states.
    if (st.End) add(name, END, 'end');
    for (const c of st.Catch ?? []) {
      const errors = (c.ErrorEquals ?? []).join(', ');
      const short = (c.ErrorEquals ?? [])
        .map((x) => (x === 'States.ALL' ? 'any error' : x.replace(/^States\./, '')))
        .join(', ');
      add(name, c.Next, 'catch', `catch ${short}`, `Catch: ${errors}`);
    }
  }
  return [...edges.values()];
}

const OPS = {
  Equals: '=',
  GreaterThan: '>',
  GreaterThanEquals: '≥',
  LessThan: '<',
  LessThanEquals: '≤',
  Matches: '~',
};

/**
 * A Choice rule as short text: `$.capture.route` StringEquals `merged` → `route = merged` (short) or
 * `$.capture.route = "merged"`.
 */
export function conditionLabel(rule, short = false) {
  if (!rule || typeof rule !== 'object') return '';
  if (Array.isArray(rule.And)) return rule.And.map((r) => conditionLabel(r, short)).join(' and ');
  if (Array.isArray(rule.Or)) return rule.Or.map((r) => conditionLabel(r, short)).join(' or ');
  if (rule.Not) return `not (${conditionLabel(rule.Not, short)})`;
  if (typeof rule.Condition === 'string') return rule.Condition;
  const variable = String(rule.Variable ?? '');
  const name = short ? (variable.split('.').at(-1) ?? variable) : variable;
  const key = Object.keys(rule).find((k) => k !== 'Variable' && k !== 'Next' && k !== 'Comment');
  if (!key) return name;
  const value = rule[key];
  const m =
    /^(String|Numeric|Boolean|Timestamp)(Equals|GreaterThan|GreaterThanEquals|LessThan|LessThanEquals|Matches)(Path)?$/.exec(
      key,
    );
  if (m) {
    const shown = m[3]
      ? String(value)
      : typeof value === 'string' && !short
        ? JSON.stringify(value)
        : String(value);
    return `${name} ${OPS[m[2]]} ${shown}`;
  }
  if (/^Is(Present|Null|String|Numeric|Boolean|Timestamp)$/.test(key))
    return `${name} ${value ? '' : 'not '}${key.slice(2).toLowerCase()}`.replace('  ', ' ');
  return `${name} ${key} ${String(value)}`;
}

/** A label in one or two lines (split at the space nearest the middle when longer than 20 characters). */
export function linesOf(label) {
  if (label.length <= 20) return [label];
  const mid = label.length / 2;
  let best = -1;
  for (let i = 0; i < label.length; i++) {
    if (label[i] === ' ' && (best < 0 || Math.abs(i - mid) < Math.abs(best - mid))) best = i;
  }
  return best < 0 ? [label] : [label.slice(0, best), label.slice(best + 1)];
}
