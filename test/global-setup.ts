import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildApp } from '#infra/app.ts';
import { loadConfig } from '#infra/load-config.ts';
import { root } from '#test/fixtures/root.ts';

/** Synthesizes the real app once (bundles, template, cdk-nag); every test reads this cloud assembly. */
export default function setup(project: TestProject) {
  const outdir = join(root, 'cdk.out.test');
  // Two projects (synthesized, dynamodb-local) share this setup in one process: synthesize once.
  const done = globalThis as { handoffSynthesized?: string };
  if (done.handoffSynthesized === outdir) return void project.provide('cdkOut', outdir);
  rmSync(outdir, { recursive: true, force: true });
  const started = Date.now();
  buildApp(loadConfig(join(root, 'config')), outdir).app.synth();
  process.stdout.write(`synthesized the app for tests in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  done.handoffSynthesized = outdir;
  project.provide('cdkOut', outdir);
}

declare module 'vitest' {
  export interface ProvidedContext {
    cdkOut: string;
  }
}
