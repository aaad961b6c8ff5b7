// npm run iam:audit: which granted actions the journeys actually use. Runs the local-stack tests (integration,
// reliability, browser) with IAM's audit on (HANDOFF_IAM_AUDIT, local/iam.ts), then lists, per role of the
// synthesized template, the actions some call was allowed by and the actions no call used: a grant broader
// than needed, or a path no test takes. CloudWatch Logs and X-Ray grants are listed apart (the local stack
// makes no such calls). A few minutes on 2 cores; exit 0, or 1 when a test failed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IamDecision, iamModelOf } from '../local/iam.ts';
import { loadTemplate } from '../local/template.ts';

const root = join(import.meta.dirname, '..');
const SUITES = ['test/integration', 'test/reliability', 'test/browser'];
const NOT_LOCAL = /^(logs|xray):/;

/** Per role: every action its policies allow (as written, wildcards kept). */
export function grantedActions(policies: { Statement: { Effect: string; Action?: string | string[] }[] }[]) {
  return [
    ...new Set(
      policies.flatMap((p) =>
        p.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action ?? []].flat()),
      ),
    ),
  ].sort();
}

/** The grants no allowed decision used, per role; and the logs/X-Ray grants apart. */
export function unusedGrants(granted: Record<string, string[]>, decisions: IamDecision[]) {
  const used = new Set(decisions.filter((d) => d.allowed).map((d) => `${d.role} ${d.action}`));
  const report: { role: string; used: string[]; unused: string[]; notLocal: string[] }[] = [];
  for (const [role, actions] of Object.entries(granted)) {
    const notLocal = actions.filter((a) => NOT_LOCAL.test(a));
    const rest = actions.filter((a) => !NOT_LOCAL.test(a));
    report.push({
      role,
      used: rest.filter((a) => used.has(`${role} ${a}`)),
      unused: rest.filter((a) => !used.has(`${role} ${a}`)),
      notLocal,
    });
  }
  return report;
}

function main() {
  const file = join(mkdtempSync(join(tmpdir(), 'handoff-iam-audit-')), 'decisions.jsonl');
  process.stdout.write(`iam:audit: running ${SUITES.join(', ')} with IAM's audit on (${file}) …\n`);
  const run = spawnSync('vitest', ['run', '--project', 'synthesized', ...SUITES], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, HANDOFF_IAM_AUDIT: file },
  });
  const decisions: IamDecision[] = existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as IamDecision)
    : [];
  const model = iamModelOf(loadTemplate(join(root, 'cdk.out.test')), {
    region: 'us-east-1',
    account: '000000000000',
  });
  const granted = Object.fromEntries(
    Object.entries(model.roles).map(([id, r]) => [id, grantedActions(r.policies)]),
  );
  process.stdout.write(`\n${decisions.length} decisions; per role, the granted actions no call used:\n`);
  for (const r of unusedGrants(granted, decisions)) {
    const unused = r.unused.length ? r.unused.join(', ') : 'none';
    process.stdout.write(
      `  ${r.role}: used ${r.used.length}, unused: ${unused}${r.notLocal.length ? ` (and ${r.notLocal.length} logs/X-Ray grants the local stack never calls)` : ''}\n`,
    );
  }
  const denied = [
    ...new Set(decisions.filter((d) => !d.allowed).map((d) => `${d.role} ${d.action} ${d.resource}`)),
  ];
  process.stdout.write(
    `\ndenied (the tests that take a grant out of the template make some on purpose): ${denied.length ? `\n  ${denied.join('\n  ')}` : 'none'}\n`,
  );
  process.exit(run.status === 0 ? 0 : 1);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
