// A stack on a port other than the default, as `npm start -- --port N` runs it: the example form posts from
// the console's origin and lands on its thank-you page, forwarded host names work when allowed, a taken
// port is named, and the scripts (funnel:rebuild, backtest, console, demo) find the stack by its data
// folder's stack.json. The demo runs against this 1× stack and does what 1× allows, promptly.
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '#infra/load-config.ts';
import { startLocal } from '#local/runtime.ts';
import { PortInUseError } from '#serve/ports.ts';
import { readStackFile, STACK_FILE } from '#serve/stack-file.ts';
import { freeBasePort, startTestStack, type TestStack } from '#test/fixtures/local-stack.ts';
import { root } from '#test/fixtures/root.ts';

let t: TestStack | undefined;
let base: number;

beforeAll(async () => {
  base = await freeBasePort();
  t = await startTestStack(inject('cdkOut'), { port: base, allowedHosts: ['foo.example'] });
});
afterAll(async () => {
  await t?.stack.stop();
});
const stack = () => (t as TestStack).stack;

/** POST /leads as a browser form without JavaScript, from a page at `origin`. */
const postForm = (origin: string, email: string) =>
  fetch(`${stack().urls.api}/leads`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, firstName: 'Ada', formType: 'demo-request', consent: 'on' }),
  });

/** A GET with a given Host header (fetch does not let a page choose it). */
function getWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs a script as `npm run <script>` would (tsx), with no AWS endpoint in its environment. */
function script(file: string, args: string[]): Promise<{ code: number; out: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, file), ...args], {
      cwd: root,
      env: { PATH: String(process.env.PATH), HOME: String(process.env.HOME) },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => resolve({ code: code ?? -1, out, ms: Date.now() - started }));
  });
}

describe('a stack on another port (npm start -- --port N)', () => {
  it('listens on N … N+5 and records itself in <data>/stack.json (0600)', () => {
    const { urls } = stack();
    expect(urls.api).toBe(`http://127.0.0.1:${base}`);
    expect(urls.console).toBe(`http://127.0.0.1:${base + 1}/`);
    expect(urls.secrets).toBe(`http://127.0.0.1:${base + 4}`);
    expect(urls.cloudformation).toBe(`http://127.0.0.1:${base + 5}`);
    const file = join((t as TestStack).dataDir, STACK_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readStackFile((t as TestStack).dataDir)).toMatchObject({ pid: process.pid, timeScale: 1, urls });
  });

  it('serves the example form, which posts from the console origin (303) to a thank-you page that loads', async () => {
    const consoleOrigin = `http://127.0.0.1:${base + 1}`;
    const page = await fetch(`${stack().urls.console}examples/contact-form.html`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain(`action="${stack().urls.api}/leads"`);
    expect(html).not.toContain('<p class="origin-note"');

    const posted = await postForm(consoleOrigin, 'ada.form@acme-robotics.com');
    expect(posted.status).toBe(303);
    const thankYou = String(posted.headers.get('location'));
    expect(thankYou).toBe(`${consoleOrigin}/examples/thank-you.html`);
    const landed = await fetch(thankYou);
    expect(landed.status).toBe(200);
    expect(await landed.text()).toContain('Thank you');

    const json = await fetch(`${stack().urls.api}/leads`, {
      method: 'POST',
      headers: { origin: consoleOrigin, 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'ada.json@acme-robotics.com',
        firstName: 'Ada',
        formType: 'demo-request',
      }),
    });
    expect(json.status).toBe(202);
    expect(json.headers.get('access-control-allow-origin')).toBe(consoleOrigin);
  });

  it('stays strict: the default port origin and other sites get 403', async () => {
    expect((await postForm('http://127.0.0.1:3001', 'x.default@acme-robotics.com')).status).toBe(403);
    expect((await postForm('https://evil.example', 'x.evil@acme-robotics.com')).status).toBe(403);
  });

  it('answers an allowed forwarded host on its ports, takes its forms, and refuses other hosts (421)', async () => {
    const { urls } = stack();
    expect(await getWithHost(`${urls.api}/nope`, `foo.example:${base}`)).toBe(404);
    expect(await getWithHost(urls.console, `foo.example:${base + 1}`)).toBe(200);
    expect(await getWithHost(urls.console, 'bar.example')).toBe(421);
    expect((await postForm('https://foo.example', 'ada.codespace@acme-robotics.com')).status).toBe(303);
  });

  it('names the service and port when a port is taken, and leaves the other ports free', async () => {
    const other = await freeBasePort();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(other + 2, '127.0.0.1', () => r()));
    try {
      const err = await startLocal({
        cdkOut: inject('cdkOut'),
        config: loadConfig(join(root, 'config')),
        dataDir: join((t as TestStack).dataDir, 'second'),
        port: other,
        timeScale: 1,
        log: () => undefined,
      }).catch((e) => e);
      expect(err).toBeInstanceOf(PortInUseError);
      expect(err).toMatchObject({ port: other + 2, service: 'dynamodb', listening: true });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    // Nothing of the failed start is left listening: the same base is free again.
    const probe = createServer();
    for (const p of [other, other + 1, other + 3, other + 4]) {
      await new Promise<void>((resolve, reject) => {
        probe.once('error', reject);
        probe.listen(p, '127.0.0.1', () => probe.close(() => resolve()));
      });
    }
    expect(existsSync(join((t as TestStack).dataDir, 'second', STACK_FILE))).toBe(false);
  });
});

describe('scripts find the stack from its data folder', () => {
  it('funnel:rebuild, backtest and console need no --api', async () => {
    const data = ['--data', (t as TestStack).dataDir];
    const { urls } = stack();
    const rebuild = await script('scripts/funnel-rebuild.ts', data);
    expect(rebuild.code, rebuild.out).toBe(0);
    expect(rebuild.out).toContain(`DynamoDB ${urls.dynamodb}`);
    const backtest = await script('scripts/backtest.ts', ['--rules', 'config/scoring.json', ...data]);
    expect(backtest.code, backtest.out).toBe(0);
    expect(backtest.out).toContain(`DynamoDB ${urls.dynamodb}`);
    const cli = await script('console/cli.ts', data);
    expect(cli.code, cli.out).toBe(0);
    expect(cli.out).toContain(`open ${urls.console}`);
  });

  it('the demo against this 1× stack does what 1× allows and says what it skipped, promptly', async () => {
    const demo = await script('scripts/demo.ts', ['--data', (t as TestStack).dataDir, '--timeout', '90']);
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toContain(`Using the Handoff running at ${stack().urls.api} (time scale 1×)`);
    expect(demo.out).toMatch(/rep actions .*maria-won/);
    expect(demo.out).toMatch(/rep actions .*jonas-lost/);
    // Whether Olivia's welcome email is due depends on the hour in London: sent and unsubscribed, or
    // skipped at once with the reason and the commands that show it.
    expect(demo.out).toMatch(
      /rep actions .*unsubscribe|Skipped: the unsubscribe\. Olivia's welcome email is held for business hours in Europe\/London .*\n\s+To see it: npm run demo -- --own/,
    );
    expect(demo.ms).toBeLessThan(80_000);
  }, 120_000);

  it('removes the stack file when the stack stops', async () => {
    const dataDir = (t as TestStack).dataDir;
    await stack().stop();
    t = undefined;
    expect(existsSync(join(dataDir, STACK_FILE))).toBe(false);
  });
});
