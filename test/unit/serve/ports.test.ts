// Binding the local stack's ports (serve/ports.ts), the form settings placed at its ports (local/site.ts)
// and the Host names it answers (serve/edge.ts --allow-host). Servers listen on 127.0.0.1 and are closed
// by each test.
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { relocated, siteEnvironment } from '#local/site.ts';
import { allowedHostNames, checkRequest, type EdgeError } from '#serve/edge.ts';
import { accepts, explainPortInUse, freeBase, listen, PortInUseError } from '#serve/ports.ts';

const servers: (Server | ReturnType<typeof createServer>)[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listening(): Promise<number> {
  const s = createServer((accepted) => void sockets.push(accepted));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

/**
 * An outgoing connection: its local port is held with nothing listening there. `release` ends it from the
 * far side, as a server closing a finished connection does (the side that closes first keeps the port in
 * TIME_WAIT for a minute; a client closed by its peer frees it at once).
 */
async function clientSocket(): Promise<{ port: number; release(): void }> {
  const target = await listening();
  const server = servers.at(-1) as ReturnType<typeof createServer>;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const socket = connect(target, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  await new Promise((r) => socket.once('connect', r));
  const far = await accepted;
  return { port: socket.localPort ?? 0, release: () => far.destroy() };
}

describe('listen on a fixed port', () => {
  it('says at once that a port another program listens on is in use', async () => {
    const port = await listening();
    const server = createHttpServer();
    const t = Date.now();
    const err = await listen(server, port, '127.0.0.1', { retryMs: 5_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(PortInUseError);
    expect((err as PortInUseError).listening).toBe(true);
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  it('retries a port held by an outgoing connection, and binds it once the connection ends', async () => {
    const { port, release } = await clientSocket();
    expect(await accepts(port)).toBe(false);
    setTimeout(release, 300);
    const server = createHttpServer();
    servers.push(server);
    expect(await listen(server, port, '127.0.0.1', { retryMs: 5_000 })).toBe(port);
  });

  it('explains a port still held by an outgoing connection after retrying, with a --port to use', async () => {
    const { port } = await clientSocket();
    const err = (await listen(createHttpServer(), port, '127.0.0.1', { retryMs: 200 }).catch(
      (e) => e,
    )) as PortInUseError;
    expect(err).toBeInstanceOf(PortInUseError);
    expect(err.listening).toBe(false);
    err.service = 'dynamodb';
    const line = await explainPortInUse(err, port - 2);
    expect(line).not.toContain('\n');
    expect(line).toContain(`Port ${port} (DynamoDB, --port ${port - 2} + 2) on 127.0.0.1`);
    expect(line).toMatch(/start with a --port below \d+, e\.g\. npm start -- --port \d+$/);
  });

  it('names another program on the port and a free base for --port', async () => {
    const port = await listening();
    const err = new PortInUseError(port, '127.0.0.1', true);
    err.service = 'api';
    const line = await explainPortInUse(err, port);
    expect(line).toMatch(
      new RegExp(
        `^Port ${port} \\(API, --port ${port}\\) on 127\\.0\\.0\\.1 is in use by another program: start with another --port, e\\.g\\. npm start -- --port \\d+$`,
      ),
    );
    const base = await freeBase(20_000);
    expect(base).toBeGreaterThanOrEqual(20_000);
  });
});

describe('the form settings at the stack ports', () => {
  const env = {
    FORM_ALLOWED_ORIGINS: 'https://www.handoff.example http://localhost:3000 http://127.0.0.1:3001',
    FORM_THANK_YOU_URL: 'http://127.0.0.1:3001/examples/thank-you.html',
    TABLE_NAME: 'Data',
  };

  it('moves loopback URLs at the default ports with --port, and nothing else', () => {
    const placed = siteEnvironment(env, { port: 44100, consolePort: 44101, allowedHosts: [] });
    expect(placed.FORM_ALLOWED_ORIGINS).toBe(
      'https://www.handoff.example http://localhost:44100 http://127.0.0.1:44101',
    );
    expect(placed.FORM_THANK_YOU_URL).toBe('http://127.0.0.1:44101/examples/thank-you.html');
    expect(placed.TABLE_NAME).toBe('Data');
    expect(relocated('http://127.0.0.1:8080', 44100)).toBe('http://127.0.0.1:8080');
    expect(relocated('https://www.handoff.example', 44100)).toBe('https://www.handoff.example');
  });

  it('keeps the synthesized settings on the default port and on port 0, adding forwarded hosts', () => {
    expect(siteEnvironment(env, { port: 3000, consolePort: 3001, allowedHosts: [] })).toEqual(env);
    const forwarded = siteEnvironment(env, { port: 0, consolePort: 41234, allowedHosts: ['foo.example'] });
    expect(forwarded.FORM_THANK_YOU_URL).toBe(env.FORM_THANK_YOU_URL);
    expect(forwarded.FORM_ALLOWED_ORIGINS?.split(' ')).toEqual([
      ...env.FORM_ALLOWED_ORIGINS.split(' '),
      'http://foo.example',
      'http://foo.example:41234',
      'https://foo.example',
      'https://foo.example:41234',
    ]);
  });
});

describe('Host names the edge answers', () => {
  const request = (host: string) => ({ headers: { host }, url: '/' }) as never;
  const statusFor = (host: string, allowed: string[] = []) => {
    try {
      checkRequest(request(host), allowed);
      return 200;
    } catch (e) {
      return (e as EdgeError).status;
    }
  };

  it('refuses foo.example with 421 by default and answers it when allowed, on any port', () => {
    expect(statusFor('foo.example')).toBe(421);
    expect(statusFor('foo.example:44101')).toBe(421);
    expect(statusFor('foo.example', ['foo.example'])).toBe(200);
    expect(statusFor('Foo.Example:44101', ['foo.example'])).toBe(200);
    expect(statusFor('evil.example', ['foo.example'])).toBe(421);
    expect(statusFor('foo.example.evil.example', ['foo.example'])).toBe(421);
    expect(statusFor('localhost:3000')).toBe(200);
  });

  it('takes host names only, from repeated options and a comma-separated variable', () => {
    expect(allowedHostNames(['Dev.Box', 'a.example,b.example', ''])).toEqual([
      'dev.box',
      'a.example',
      'b.example',
    ]);
    for (const bad of ['https://x.example', 'x.example:8080', '*.example', 'x/y'])
      expect(() => allowedHostNames([bad])).toThrow(/--allow-host takes a host name/);
  });
});
