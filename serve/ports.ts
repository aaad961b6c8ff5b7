// Listening on a fixed port, and saying why it failed. A port can be "in use" with nothing listening on
// it: Linux hands out 32768–60999 (net.ipv4.ip_local_port_range) as the local end of outgoing
// connections, and a client socket holding 127.0.0.1:44102 — this process's or any other program's —
// makes a listener's bind there fail with EADDRINUSE (measured: `npm start -- --port 44100` failed on
// 44102 that way). The socket holds the port while its connection lasts, and for a minute more in
// TIME_WAIT when it closed first. So such a bind is retried for a few seconds, and then explained with
// the range to avoid; a port where something accepts connections is really taken, and said so at once.
// In serve/ (imports neither local/ nor console/): the local stack and `npm run console` both bind here.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { type AddressInfo, connect, createServer } from 'node:net';

/** A fixed port could not be bound: `listening` says whether another program listens there. */
export class PortInUseError extends Error {
  /** Which of the stack's services wanted the port (set by the caller that knows). */
  service?: string;
  constructor(
    readonly port: number,
    readonly host: string,
    readonly listening: boolean,
  ) {
    super(
      listening
        ? `Port ${port} on ${host} is in use by another program`
        : `Port ${port} on ${host} is held by an outgoing connection (nothing listens there; ${ephemeralNote(port)})`,
    );
    this.name = 'PortInUseError';
  }
}

const SERVICES: Record<string, string> = {
  api: 'API',
  sfn: 'Step Functions and console',
  dynamodb: 'DynamoDB',
  ses: 'SES',
  secrets: 'Secrets Manager',
  cloudformation: 'CloudFormation',
};

/** How many ports a local stack takes from its base (`--port N`): N … N+5, one per entry of SERVICES. */
export const STACK_PORTS = 6;

/** For `npm start -- --port <port>`, one line: which port, for what, why it is not free, and a --port that is. */
export async function explainPortInUse(e: PortInUseError, port: number): Promise<string> {
  const [low, high] = ephemeralRange();
  const offset = e.port === port ? '' : ` + ${e.port - port}`;
  const what = `Port ${e.port}${e.service ? ` (${SERVICES[e.service] ?? e.service}, --port ${port}${offset})` : ''} on ${e.host}`;
  const base = await freeBase(port === 3000 ? 3010 : 3000);
  const instead = base ? `, e.g. npm start -- --port ${base}` : '';
  return e.listening
    ? `${what} is in use by another program: start with another --port${instead}`
    : `${what} stayed held by outgoing connections (nothing listens there; ${low}–${high} is this machine's range for those): start with a --port below ${low}${instead}`;
}

export interface ListenOptions {
  /** How long to retry a port held by an outgoing connection (default 5 s). */
  retryMs?: number;
}

/** Binds `server` to `host:port` (0: any free port) and returns the port. */
export async function listen(
  server: Server,
  port: number,
  host = '127.0.0.1',
  opts: ListenOptions = {},
): Promise<number> {
  const deadline = Date.now() + (opts.retryMs ?? 5_000);
  for (;;) {
    try {
      await bind(server, port, host);
      return (server.address() as AddressInfo).port;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw e;
      if (await accepts(port, host)) throw new PortInUseError(port, host, true);
      if (Date.now() >= deadline) throw new PortInUseError(port, host, false);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function bind(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Whether something accepts a connection on `host:port` within half a second. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host, timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/**
 * The first base port from `from` (in steps of 10, below the ephemeral range) whose `count` ports can all
 * be bound now: a suggestion for `--port`, not a reservation.
 */
export async function freeBase(
  from = 3000,
  count = STACK_PORTS,
  host = '127.0.0.1',
): Promise<number | undefined> {
  const [low] = ephemeralRange();
  for (let base = from; base + count <= low; base += 10) {
    const servers = [];
    let free = true;
    for (let p = base; p < base + count && free; p += 1) {
      const s = createServer();
      free = await new Promise<boolean>((resolve) => {
        s.once('error', () => resolve(false));
        s.listen(p, host, () => resolve(true));
      });
      if (free) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    if (free) return base;
  }
  return undefined;
}

/** The ports the system gives outgoing connections (Linux's ip_local_port_range; its default elsewhere). */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {}
  // Linux's default, or IANA's (macOS, Windows).
  return process.platform === 'linux' ? [32768, 60999] : [49152, 65535];
}

function ephemeralNote(port: number): string {
  const [low, high] = ephemeralRange();
  return port >= low && port <= high
    ? `${port} lies in this machine's ephemeral range ${low}–${high}, which outgoing connections use: pick one below ${low}`
    : 'it was still held after retrying';
}
