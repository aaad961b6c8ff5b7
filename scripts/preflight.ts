// npm run preflight: what can be checked before a first deploy without AWS credentials. The configuration
// (valid, and no longer the local-only values it ships with), then synthesis with cdk-nag; then the steps
// only the account can do (DKIM, the SES sandbox, the alarm subscription), as a list. docs/deploy.md.
//
//   npm run preflight                     checks config/ and synthesizes into a temporary folder
//   npm run preflight -- --config DIR     another config folder
//   npm run preflight -- --no-synth       the configuration only (seconds instead of ~20 s)
//
// Exit code: 0 nothing blocks a deploy · 1 something does (each ✗ says what to change) · 2 usage.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { HandoffConfig } from '../functions/config/schema.ts';
import { buildApp } from '../infra/app.ts';
import { loadConfig } from '../infra/load-config.ts';

export interface Check {
  level: 'ok' | 'warn' | 'block';
  what: string;
}

/** Top-level domains and names that can never be verified in SES or reached by a visitor (RFC 2606, 6761). */
const RESERVED = /(^|\.)(example|test|invalid|localhost|local)$|(^|\.)example\.(com|net|org)$/;
const LOOPBACK = /^(localhost|127(\.\d+){3}|\[::1\])$/;
const hostOf = (url: string) => {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
};

/** The configuration's checks: blockers where a deployment could not work, warnings where it would surprise. */
export function configChecks(c: HandoffConfig): Check[] {
  const checks: Check[] = [];
  const senderDomain = c.app.sender.fromAddress.split('@')[1] ?? '';
  checks.push(
    RESERVED.test(senderDomain)
      ? {
          level: 'block',
          what: `app.json sender.fromAddress: ${senderDomain} is a reserved domain SES can never verify; use an address at a domain you own`,
        }
      : { level: 'ok', what: `sender domain ${senderDomain} (verify it after the deploy: DKIM below)` },
  );
  const thanks = new URL(c.app.forms.thankYouUrl);
  checks.push(
    thanks.protocol !== 'https:' || LOOPBACK.test(thanks.hostname) || RESERVED.test(thanks.hostname)
      ? {
          level: 'block',
          what: `app.json forms.thankYouUrl: ${thanks.origin} is not a public https page; visitors would land on it after a plain form post`,
        }
      : { level: 'ok', what: `thank-you page ${thanks.href}` },
  );
  const origins = c.app.forms.allowedOrigins.map(hostOf);
  const publicOrigins = c.app.forms.allowedOrigins.filter(
    (o) => o.startsWith('https://') && !LOOPBACK.test(hostOf(o)) && !RESERVED.test(hostOf(o)),
  );
  if (!publicOrigins.length)
    checks.push({
      level: 'block',
      what: 'app.json forms.allowedOrigins: no public https origin; every real site’s form would get 403',
    });
  else checks.push({ level: 'ok', what: `forms may post from ${publicOrigins.join(', ')}` });
  const local = origins.filter((h) => LOOPBACK.test(h) || RESERVED.test(h));
  if (local.length)
    checks.push({
      level: 'warn',
      what: `app.json forms.allowedOrigins also allows ${[...new Set(local)].join(', ')} (local or reserved): remove them unless you want them`,
    });
  const exampleReps = c.reps.reps.filter((r) => RESERVED.test(r.email.split('@')[1] ?? ''));
  if (exampleReps.length)
    checks.push({
      level: 'block',
      what: `reps.json: ${exampleReps.length} of ${c.reps.reps.length} reps have addresses at reserved domains (${exampleReps
        .slice(0, 3)
        .map((r) => r.id)
        .join(', ')}…): their assignment emails could never arrive`,
    });
  const hosts = c.app.links.clickAllowedHosts.filter((h) => RESERVED.test(h));
  if (hosts.length)
    checks.push({
      level: 'warn',
      what: `app.json links.clickAllowedHosts: ${hosts.join(', ')} are reserved names; tracked links to your site need its hosts here`,
    });
  const { captcha } = c.app.forms;
  checks.push(
    captcha
      ? {
          level: 'ok',
          what: `CAPTCHA: ${captcha.provider}; after the deploy put its site secret in the CaptchaSecretArn output's secret (until then every form fails the check)`,
        }
      : {
          level: 'ok',
          what: 'no CAPTCHA (forms.captcha unset): honeypot, per-client limits and route budgets only',
        },
  );
  return checks;
}

/** What only the account can do, in order (docs/deploy.md). */
export const AFTER_DEPLOY = [
  'publish the three DKIM CNAME records of the outputs SenderDkimRecord1..3 at your DNS host; SES verifies the domain when they resolve',
  'request SES production access (in the sandbox only verified recipients get mail, at most 200 a day, 1 a second)',
  'confirm the alarm subscription SNS emails to AlarmEmail (or subscribe to the AlertsTopic output)',
  'npm run seed -- --table <TableName output>: the reps’ profiles',
  'point your forms at <ApiUrl output>/leads',
];

function main(): number {
  let args: ReturnType<typeof parse>;
  try {
    args = parse();
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: npm run preflight [-- --config DIR] [--no-synth]`);
    return 2;
  }
  const dir = resolve(args.values.config ?? join(import.meta.dirname, '../config'));
  console.log(`preflight: ${dir} (no AWS credentials needed)`);
  let config: HandoffConfig;
  try {
    config = loadConfig(dir);
  } catch (e) {
    console.log(`  ✗ ${(e as Error).message.replaceAll('\n', '\n    ')}`);
    console.log('1 blocking, 0 warnings');
    return 1;
  }
  const checks = [{ level: 'ok', what: 'configuration valid' } as Check, ...configChecks(config)];
  const print = (c: Check) => console.log(`  ${{ ok: '✓', warn: '!', block: '✗' }[c.level]} ${c.what}`);
  for (const c of checks) print(c);
  if (!args.values['no-synth']) {
    process.stdout.write('  … synthesizing (bundles every function, runs cdk-nag)\n');
    const out = mkdtempSync(join(tmpdir(), 'handoff-preflight-'));
    const t = performance.now();
    try {
      buildApp(config, out).app.synth();
      const c: Check = {
        level: 'ok',
        what: `synthesized, cdk-nag AwsSolutions clean, in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      };
      checks.push(c);
      print(c);
    } catch (e) {
      const c: Check = { level: 'block', what: `synthesis failed: ${(e as Error).message}` };
      checks.push(c);
      print(c);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  console.log('after the deploy (needs the account):');
  for (const [i, step] of AFTER_DEPLOY.entries()) console.log(`  ${i + 1}. ${step}`);
  const blocking = checks.filter((c) => c.level === 'block').length;
  const warnings = checks.filter((c) => c.level === 'warn').length;
  console.log(`${blocking} blocking, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return blocking ? 1 : 0;
}

function parse() {
  return parseArgs({
    options: { config: { type: 'string' }, 'no-synth': { type: 'boolean', default: false } },
    allowPositionals: false,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main();
