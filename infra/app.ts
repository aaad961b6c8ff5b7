import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, type HandoffConfig } from '../functions/config/schema.ts';
import { loadConfig } from './load-config.ts';
import { HandoffStack } from './stack.ts';

/** The whole app: Handoff's stack with cdk-nag's AwsSolutions checks. Used by `cdk synth` and the tests. */
export function buildApp(config: HandoffConfig, outdir?: string): { app: App; stack: HandoffStack } {
  // Path and asset metadata (as the CDK CLI sets them) let tests and the local runtime map resources back.
  const context = { 'aws:cdk:enable-path-metadata': true, 'aws:cdk:enable-asset-metadata': true };
  const app = new App(outdir ? { outdir, context } : { context });
  const stack = new HandoffStack(app, 'Handoff', {
    config,
    description: 'Handoff: lead-to-close automation',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp(loadConfig(resolve(import.meta.dirname, '../config'))).app.synth();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}
