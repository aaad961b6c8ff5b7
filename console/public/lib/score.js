// How a lead's score adds up, in words (functions/lead/scoring.ts: the total is the mean of fit
// and engagement, penalties are taken off fit, a hard-stop flag makes it 0).

/**
 * "75 = mean of fit 90 and engagement 60", "… (fit after −20 of penalties)", "0: flagged (competitor)".
 * @param {{ total: number, fit: number, engagement: number, flags?: string[], reasons?: { kind?: string, points: number }[] }} score
 */
export function scoreLine(score) {
  if (score.flags?.length) return `${score.total}: flagged (${score.flags.join(', ')}), so not scored`;
  const penalty = (score.reasons ?? [])
    .filter((r) => r.kind === 'negative' && r.points < 0)
    .reduce((s, r) => s + r.points, 0);
  const base = `${score.total} = mean of fit ${score.fit} and engagement ${score.engagement}`;
  return penalty < 0 ? `${base} (fit after −${-penalty} of penalties)` : base;
}

/**
 * A timeline event's data as [key, text] pairs: arrays as a readable list ("Title: VP, pricing (today)"),
 * nested objects as JSON, empty arrays and objects left out.
 * @param {Record<string, unknown>} data
 * @returns {[string, string, boolean][]} key, text, whether the text is JSON
 */
export function eventFields(data) {
  const out = [];
  for (const [k, v] of Object.entries(data ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    if (Array.isArray(v)) {
      if (!v.length) continue;
      if (v.every((x) => typeof x !== 'object' || x === null))
        out.push([k, v.map(String).join(' · '), false]);
      else out.push([k, JSON.stringify(v), true]);
    } else if (typeof v === 'object') {
      if (Object.keys(v).length) out.push([k, JSON.stringify(v), true]);
    } else out.push([k, String(v), false]);
  }
  return out;
}
