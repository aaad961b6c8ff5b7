/** User agents of programs, not people: mail security scanners, link previews, crawlers, scripts, headless browsers. */
const AUTOMATED_AGENTS =
  /(bot|crawler|spider|preview|scanner|proofpoint|mimecast|barracuda|safelinks|urldefense|headless|python-requests|curl|wget)/i;

/** A request no person made (or one without a user agent, which browsers always send). */
export function isAutomatedAgent(userAgent: string | undefined): boolean {
  return !userAgent || AUTOMATED_AGENTS.test(userAgent);
}
