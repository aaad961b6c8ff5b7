import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Two tiers: `unit` runs pure code and handlers with mocked AWS clients; `synthesized` first
// synthesizes the real CDK app (bundles, template, cdk-nag) and tests what came out of it. The
// `dynamodb-local` lane runs the data-store contract and the workflow tests again on DynamoDB Local, AWS's own
// emulator (a Java program; test/fixtures/dynamodb.ts), where Java is installed.
const DYNAMODB_LOCAL_LANE = [
  'test/integration/data-stores.test.ts',
  'test/integration/funnel-shards.test.ts',
  'test/integration/workflow*.test.ts',
  'test/integration/capacity.test.ts',
  'test/integration/backtest.test.ts',
  'test/reliability/idempotency.test.ts',
  // npm start -- --dynamodb local: the whole stack on it (only here: it needs Java).
  'test/dynamodb-local/**/*.test.ts',
];
const java = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
if (!java)
  console.log(
    'DynamoDB Local lane: no `java` here, so the data-store and workflow tests run on dynalite only (install a JRE, e.g. apt-get install openjdk-17-jre-headless)',
  );

export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two files at once even on 2 cores (vitest's default there is one): the local-stack tests mostly wait
    // (SDK backoff, timers), and the stack's clock runs at real speed while it works, so a busy machine
    // slows a test down without changing what it sees.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'synthesized',
          include: [
            'test/infra/**/*.test.ts',
            'test/integration/**/*.test.ts',
            'test/reliability/**/*.test.ts',
            'test/browser/**/*.test.ts',
          ],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      ...(java
        ? [
            {
              extends: true as const,
              test: {
                name: 'dynamodb-local',
                include: DYNAMODB_LOCAL_LANE,
                env: { HANDOFF_TEST_DYNAMODB: 'dynamodb-local' },
                globalSetup: ['test/global-setup.ts'],
              },
            },
          ]
        : []),
    ],
  },
});
