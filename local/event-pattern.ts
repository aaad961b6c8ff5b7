// EventBridge event patterns (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html):
// each pattern field names an event field; a leaf is a list of matchers, any of which may match any of
// the field's values (a field that is an array matches when one element does); nested objects match
// nested fields. Supported matchers: exact values (string, number, boolean, null), prefix, suffix,
// equals-ignore-case, wildcard, anything-but (a value, a list, or a prefix/suffix), exists, numeric.

export type EventPattern = { [field: string]: EventPattern | unknown[] };

/** True when `event` matches `pattern`. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return Object.entries(pattern).every(([field, node]) => matchesNode(node, fieldOf(event, field)));
}

function fieldOf(value: unknown, field: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[field]
    : undefined;
}

function matchesNode(node: EventPattern | unknown[], value: unknown): boolean {
  if (Array.isArray(node)) return matchesLeaf(node, value);
  if (node !== null && typeof node === 'object') return matchesPattern(node, value);
  throw new Error(`Event pattern: ${JSON.stringify(node)} is neither a list of matchers nor an object`);
}

function matchesLeaf(matchers: unknown[], value: unknown): boolean {
  const values = Array.isArray(value) ? value : [value];
  return matchers.some((m) => {
    if (m !== null && typeof m === 'object' && 'exists' in m) {
      const present =
        value !== undefined && !(value !== null && typeof value === 'object' && !Array.isArray(value));
      return (m as { exists: boolean }).exists === present;
    }
    // Every other matcher needs the field to be there (as a leaf value).
    return values.some((v) => v !== undefined && matchesOne(m, v));
  });
}

function matchesOne(m: unknown, v: unknown): boolean {
  if (m === null || typeof m !== 'object') return m === v;
  const [[kind, arg] = []] = Object.entries(m as Record<string, unknown>);
  switch (kind) {
    case 'prefix':
      return typeof v === 'string' && typeof arg === 'string' && v.startsWith(arg);
    case 'suffix':
      return typeof v === 'string' && typeof arg === 'string' && v.endsWith(arg);
    case 'equals-ignore-case':
      return typeof v === 'string' && typeof arg === 'string' && v.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return typeof v === 'string' && typeof arg === 'string' && wildcard(arg).test(v);
    case 'anything-but':
      return anythingBut(arg, v);
    case 'numeric':
      return typeof v === 'number' && numeric(arg as unknown[], v);
    default:
      throw new Error(`Event pattern: unsupported matcher ${JSON.stringify(m)}`);
  }
}

function anythingBut(arg: unknown, v: unknown): boolean {
  if (Array.isArray(arg)) return !arg.includes(v);
  if (arg !== null && typeof arg === 'object') return !matchesOne(arg, v);
  return arg !== v;
}

function numeric(ops: unknown[], v: number): boolean {
  for (let i = 0; i + 1 < ops.length; i += 2) {
    const [op, n] = [ops[i], Number(ops[i + 1])];
    const ok =
      op === '='
        ? v === n
        : op === '>'
          ? v > n
          : op === '>='
            ? v >= n
            : op === '<'
              ? v < n
              : op === '<='
                ? v <= n
                : false;
    if (!ok) return false;
  }
  return true;
}

function wildcard(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}
