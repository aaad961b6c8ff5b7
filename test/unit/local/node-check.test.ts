import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAMBDA_RUNTIME } from '#infra/constructs/handoff-function.ts';
import { type NodeFacts, nodeMismatch, projectNodeVersion } from '#local/node-check.ts';
import { majorOf } from '#local/template.ts';
import { root } from '#test/fixtures/root.ts';

/** A user on Debian's Node 20 running `npm start` in a checkout with Node 24 in node_modules/.bin. */
const facts = (over: Partial<NodeFacts> = {}): NodeFacts => ({
  running: 'v20.20.2',
  execPath: '/usr/bin/node',
  lambdaRuntime: 'nodejs24.x',
  projectNode: 'v24.21.0',
  viaNpm: false,
  command: 'npm start',
  script: 'local/start.ts',
  ...over,
});
const HEAD =
  'Handoff runs its functions on Node.js 24 (their Lambda runtime is nodejs24.x), not on Node.js v20.20.2 (/usr/bin/node):';

describe('npm start refuses a Node.js major other than the Lambda runtime’s', () => {
  it('lets the functions run on the Lambda runtime’s major, whatever the minor', () => {
    expect(nodeMismatch(facts({ running: 'v24.21.0' }))).toBeUndefined();
    expect(nodeMismatch(facts({ running: 'v24.0.0', projectNode: undefined }))).toBeUndefined();
  });

  it('says to install with npm 11 when node_modules/.bin/node is missing (what npm 10 leaves)', () => {
    expect(nodeMismatch(facts({ projectNode: undefined, viaNpm: true }))).toBe(
      `${HEAD} node_modules/.bin/node is missing (npm older than 11 leaves it out); run npx npm@11 install, then npm start`,
    );
  });

  it('says to run through npm when it was started outside npm and node_modules/.bin/node is right', () => {
    expect(nodeMismatch(facts({ command: 'npm run demo' }))).toBe(
      `${HEAD} run npm run demo, which puts node_modules/.bin/node (Node.js v24.21.0) first on PATH`,
    );
  });

  it('refuses a newer major too, and names the wrong node_modules/.bin/node', () => {
    expect(nodeMismatch(facts({ running: 'v26.1.0', execPath: '/opt/node', projectNode: 'v22.3.0' }))).toBe(
      'Handoff runs its functions on Node.js 24 (their Lambda runtime is nodejs24.x), not on Node.js v26.1.0 (/opt/node): node_modules/.bin/node is Node.js v22.3.0; run npx npm@11 install to get the Node.js 24 that package.json names, then npm start',
    );
  });

  it('names the exact command when npm started it and still another node came first on PATH', () => {
    expect(nodeMismatch(facts({ viaNpm: true }))).toBe(
      `${HEAD} something put it before node_modules/.bin/node (Node.js v24.21.0) on npm's PATH; run node_modules/.bin/node --import tsx local/start.ts`,
    );
  });
});

describe('the Node.js the check expects', () => {
  it('is the major of every node-<os>-<cpu> package in optionalDependencies, so npm start can pass', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      optionalDependencies: Record<string, string>;
    };
    const nodes = Object.entries(pkg.optionalDependencies).filter(([name]) => /^node-/.test(name));
    expect(nodes.length).toBeGreaterThanOrEqual(4);
    for (const [name, range] of nodes) expect(majorOf(range), name).toBe(majorOf(LAMBDA_RUNTIME.name));
  });
});

describe('projectNodeVersion', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined without node_modules/.bin/node, and what the binary prints when there is one', () => {
    dir = mkdtempSync(join(tmpdir(), 'handoff-node-check-'));
    expect(projectNodeVersion(dir)).toBeUndefined();
    mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
    const bin = join(dir, 'node_modules', '.bin', 'node');
    writeFileSync(bin, '#!/bin/sh\necho v24.9.9\n');
    chmodSync(bin, 0o755);
    expect(projectNodeVersion(dir)).toBe('v24.9.9');
    writeFileSync(bin, '#!/bin/sh\nexit 3\n');
    expect(projectNodeVersion(dir)).toBe('');
  });
});
