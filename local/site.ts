// Where this local stack's own pages are, for the form settings the template gives SubmitLead
// (FORM_ALLOWED_ORIGINS, FORM_THANK_YOU_URL: config/app.json's `forms`, set by infra's useForms).
//
// config/app.json names the local example by loopback URLs at the default ports: the console's origin
// http://127.0.0.1:3001 may post forms, and the thank-you page is http://127.0.0.1:3001/examples/…. A
// deploy fills in where the API really is (PUBLIC_BASE_URL from the API's GetAtt); the local runtime does
// the same here: `--port N` moves every port by N − 3000, so those loopback URLs move with them, and
// the example form on the console posts and lands on its thank-you page at any port. Nothing is added
// that the config did not allow at the default ports (other origins still get 403), except the origins
// of host names the user forwards the stack under (--allow-host). With port 0 (tests: any free ports)
// there is no offset, and the settings stay as synthesized.

/** The API's default port; the Step Functions endpoint and console, DynamoDB, SES, Secrets Manager follow. */
export const DEFAULT_PORT = 3000;
/** How many ports the stack listens on from its base. */
export const PORT_COUNT = 5;

const FORM_ORIGINS = 'FORM_ALLOWED_ORIGINS';
const THANK_YOU = 'FORM_THANK_YOU_URL';
const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\])$/i;

export interface Site {
  /** `--port` (0: any free ports; nothing moves). */
  port: number;
  /** The console's actual port: forwarded hosts' pages are served there. */
  consolePort: number;
  /** Forwarded host names (serve/edge.ts allowedHostNames). */
  allowedHosts: readonly string[];
}

/** The form settings a function's template environment holds, if any. */
export interface FormSettings {
  allowedOrigins: string[];
  thankYouUrl: string;
}

/** A loopback URL at one of the default ports, moved to the same port from `port` (others unchanged). */
export function relocated(url: string, port: number): string {
  if (port === 0 || port === DEFAULT_PORT) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const at = Number(u.port);
  if (!LOOPBACK.test(u.hostname) || at < DEFAULT_PORT || at >= DEFAULT_PORT + PORT_COUNT) return url;
  u.port = String(port + (at - DEFAULT_PORT));
  // An origin has no path: keep it so (URL would print `http://127.0.0.1:44101/`).
  return /^[a-z]+:\/\/[^/]+$/i.test(url) ? u.origin : u.href;
}

/** The pages a forwarded host serves the example form from: http and https, with and without the console's port. */
export function forwardedOrigins(site: Site): string[] {
  return site.allowedHosts.flatMap((h) =>
    ['http', 'https'].flatMap((scheme) => [`${scheme}://${h}`, `${scheme}://${h}:${site.consolePort}`]),
  );
}

/** A function's template environment with its form settings placed where this stack's pages are. */
export function siteEnvironment(env: Record<string, string>, site: Site): Record<string, string> {
  const origins = env[FORM_ORIGINS];
  const thankYou = env[THANK_YOU];
  if (origins === undefined && thankYou === undefined) return env;
  const placed = { ...env };
  if (origins !== undefined) {
    const list = origins.split(' ').filter(Boolean);
    placed[FORM_ORIGINS] = [
      ...new Set([...list.map((o) => relocated(o, site.port)), ...forwardedOrigins(site)]),
    ].join(' ');
  }
  if (thankYou !== undefined) placed[THANK_YOU] = relocated(thankYou, site.port);
  return placed;
}

/** The form settings of the first environment that has them (SubmitLead's), for the console and `npm start`. */
export function formSettingsOf(envs: Record<string, string>[]): FormSettings | undefined {
  const env = envs.find((e) => e[FORM_ORIGINS] !== undefined && e[THANK_YOU] !== undefined);
  if (!env) return undefined;
  return {
    allowedOrigins: String(env[FORM_ORIGINS]).split(' ').filter(Boolean),
    thankYouUrl: String(env[THANK_YOU]),
  };
}
