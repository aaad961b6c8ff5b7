// The console's AWS mode (`npm run console -- --stack Handoff`), run for real: the CLI reads the stack's
// outputs with CloudFormation's DescribeStacks and then works through Step Functions and DynamoDB, all
// through the AWS SDK's standard endpoint variables pointed at a local stack, with an operator's
// credentials. Nothing in the console knows it is local: this is the path a deployed stack takes.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { leadIdFor } from '#functions/lead/lead.ts';
import { chooseBrowser, launchBrowser } from '#test/fixtures/browser.ts';
import { postLead, startTestStack, type TestStack } from '#test/fixtures/local-stack.ts';
import { root } from '#test/fixtures/root.ts';

let t: TestStack;
let browser: Browser;
const children: ChildProcess[] = [];

beforeAll(async () => {
  const choice = chooseBrowser();
  [t, browser] = await Promise.all([startTestStack(inject('cdkOut')), launchBrowser(choice)]);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGTERM');
  await browser?.close();
  await t?.stack.stop();
});

/** The environment an operator has: the standard SDK variables, no profile, and nothing else of ours. */
function operatorEnv(): NodeJS.ProcessEnv {
  const { urls } = t.stack;
  return {
    PATH: String(process.env.PATH),
    HOME: String(process.env.HOME),
    AWS_CONFIG_FILE: join(root, 'no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-such-aws-credentials'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_CLOUDFORMATION: urls.cloudformation,
    AWS_ENDPOINT_URL_SFN: urls.sfn,
    AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
  };
}

/** `npm run console -- <args>` as a process; resolves with what it printed once `until` matches or it exits. */
function consoleCli(args: string[], until: RegExp): Promise<{ out: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'console/cli.ts'), ...args], {
    cwd: root,
    env: operatorEnv(),
  });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start:\n${out}`)), 30_000);
    const seen = (d: Buffer) => {
      out += d;
      if (until.test(out)) {
        clearTimeout(timer);
        resolve({ out, code: null });
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

describe('npm run console -- --stack Handoff, against the local stack through the SDK’s endpoint variables', () => {
  it('finds the stack by its outputs, lists the run, follows it, and stops and redrives it', async () => {
    const email = 'aws.mode@acme-robotics.com';
    expect(
      (await postLead(t, { email, firstName: 'Ava', formType: 'newsletter', title: 'Intern' })).status,
    ).toBe(202);
    const { out } = await consoleCli(['--stack', 'Handoff', '--port', '0'], /Open\s+(http\S+)/);
    const url = String(out.match(/Open\s+(http\S+)/)?.[1]);
    expect(out).toContain('Handoff console for stack Handoff in us-east-1');
    expect(out).toContain(`State machine  ${t.stack.stateMachineArn}`);
    expect(out).toContain(`Table          ${t.stack.tableName}`);
    expect(out).toContain(`API            ${t.stack.urls.api}`);

    const errors: string[] = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    await page.goto(url);
    await expect.poll(() => page.locator('#env').textContent()).toBe('Handoff · us-east-1');
    await page.goto(`${new URL(url).origin}/#/runs?q=${encodeURIComponent(email)}`);
    const link = page.locator(`tr[data-run^="${leadIdFor(email)}"] a`).first();
    await link.waitFor({ timeout: 15_000 });
    await link.click();
    const wait = 'Wait for a signal or the next send';
    const current = page.locator('svg.graph .node.current');
    await expect.poll(() => current.getAttribute('data-state'), { timeout: 15_000 }).toBe(wait);
    // "Send now" is the local console's: against AWS there is no such thing.
    expect(await page.getByRole('button', { name: 'Send now' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Stop run' }).click();
    await page.locator('.run-status .badge', { hasText: 'Stopped' }).waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Redrive' }).click();
    await page.locator('dialog[open]').getByRole('button', { name: 'Redrive' }).click();
    await page.locator('.run-status .badge', { hasText: 'Running' }).waitFor({ timeout: 10_000 });
    await expect.poll(() => current.getAttribute('data-state'), { timeout: 15_000 }).toBe(wait);

    // The lead's page reads DynamoDB through the same variables.
    await page.goto(`${new URL(url).origin}/#/leads/${leadIdFor(email)}`);
    await page.locator('h2', { hasText: /^Timeline \(\d+\)$/ }).waitFor({ timeout: 10_000 });
    await page.locator('h2', { hasText: 'Runs (1)' }).waitFor();
    await page.close();
    expect(errors).toEqual([]);
    // An operator's key is an administrator's: nothing it did was refused.
    expect(t.logs.filter((l) => l.includes('AccessDenied'))).toEqual([]);
  }, 90_000);

  it('says plainly that a stack the endpoint does not run does not exist, and exits 1', async () => {
    const { out, code } = await consoleCli(['--stack', 'Staging', '--port', '0'], /$^/);
    expect(code).toBe(1);
    expect(out).toContain(
      'No stack named Staging in us-east-1: deploy it (npx cdk deploy) or pass --region.',
    );
  }, 40_000);
});
