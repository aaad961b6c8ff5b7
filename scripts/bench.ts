// npm run bench: prints measured figures (no pass/fail). Synthesizes first if cdk.out is missing.
//  1. bundle size per function (raw and gzip) and its three largest inputs, from esbuild's metafile;
//  2. module init time per bundle in a fresh Node process (a cold-start proxy: no network, dummy env);
//  3. domain throughput: leads scored and routed per second.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { leadIdFor } from '../functions/shared/domain/lead.ts';
import { routeLead, scoreLead } from '../functions/shared/domain/scoring.ts';
import { loadConfig } from '../infra/load-config.ts';
import { functionsOf, loadTemplate } from '../local/template.ts';

const root = join(import.meta.dirname, '..');
const out = join(root, 'cdk.out');
if (!existsSync(join(out, 'Handoff.template.json'))) {
  console.log('cdk.out missing: running cdk synth …');
  execFileSync('npx', ['cdk', 'synth', '--quiet'], { cwd: root, stdio: 'inherit' });
}
const template = loadTemplate(out);
const fns = functionsOf(template, {
  region: 'us-east-1',
  account: '000000000000',
  overrides: overridesFor(template),
});

function overridesFor(t: ReturnType<typeof loadTemplate>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(t.Resources)
      .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')
      .map(([id]) => [`${id}.ApiEndpoint`, 'https://example.invalid']),
  );
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
console.log('\n## Bundles (esbuild, minified ESM, AWS SDK included)\n');
console.log('| function | bundle | gzip | largest inputs |');
console.log('|---|---:|---:|---|');
for (const f of fns) {
  const dir = join(out, f.assetPath);
  const code = readFileSync(join(dir, 'index.mjs'));
  const meta = JSON.parse(readFileSync(join(dir, 'index.meta.json'), 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const byPackage = new Map<string, number>();
  for (const o of Object.values(meta.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(o.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const key = m?.[1] ?? '(handoff code)';
      byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
    }
  }
  const top = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${kb(v)}`);
  console.log(
    `| ${f.id} | ${kb(statSync(join(dir, 'index.mjs')).size)} | ${kb(gzipSync(code).length)} | ${top.join(', ')} |`,
  );
}

console.log('\n## Module init (fresh node process, median of 3)\n');
console.log('| function | init ms |');
console.log('|---|---:|');
for (const f of fns) {
  const file = join(out, f.assetPath, 'index.mjs');
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now(); await import(${JSON.stringify(file)}); console.log(performance.now()-t);`,
      ],
      {
        env: { ...process.env, ...f.environment, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
        encoding: 'utf8',
      },
    );
    times.push(Number(r.stdout.trim()));
  }
  times.sort((a, b) => a - b);
  console.log(`| ${f.id} | ${times[1]?.toFixed(1)} |`);
}

console.log('\n## Domain throughput\n');
const config = loadConfig(join(root, 'config'));
const now = new Date();
const N = 50_000;
const started = performance.now();
for (let i = 0; i < N; i++) {
  const email = `person${i}@company${i % 97}.com`;
  const lead = {
    id: leadIdFor(email),
    email,
    emailDomain: email.split('@')[1] ?? '',
    firstName: 'Pat',
    title: i % 3 ? 'VP Sales' : 'Engineer',
    companySize: (i % 50) * 40 + 1,
    industry: 'software',
    country: i % 2 ? 'US' : 'DE',
    formType: 'content-download',
    consent: true,
  };
  const events = [
    { type: 'content-download', at: now.toISOString() },
    { type: 'email-click', at: now.toISOString() },
  ];
  routeLead(scoreLead(lead, events, config.scoring, now), ['content-download'], config.scoring);
}
const secs = (performance.now() - started) / 1000;
console.log(
  `scored and routed ${N} leads in ${secs.toFixed(2)} s: ${Math.round(N / secs)} leads/s (one core)`,
);
