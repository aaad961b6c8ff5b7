// DynamoDB Local, AWS's own DynamoDB emulator (a Java program), as the local stack's DynamoDB instead of
// dynalite: `npm start -- --dynamodb local`, and the tests' `dynamodb-local` lane (test/fixtures/dynamodb.ts).
// The jar ships inside the amplify-dynamodb-simulator npm package; its own launcher looks for the jar in
// ~/.amplify/lib, where only the Amplify CLI puts it, so the JVM is started here from the package's copy.
// DynamoDB Local has no host option and listens on every interface: the stack's DynamoDB port (its edge,
// IAM and the fault switch) forwards to it, and docs/local-fidelity.md says so.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, type RequestListener, request } from 'node:http';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { DynamoEngine } from './dynamodb.ts';

export interface DynamoDbLocal {
  /** Where it listens (127.0.0.1 and, as it cannot be told otherwise, every other interface). */
  url: string;
  stop(): Promise<void>;
}

/** DynamoDB Local cannot start here: no Java, or the JVM did not come up. */
export class DynamoDbLocalError extends Error {
  override name = 'DynamoDbLocalError';
}

/** The folder of DynamoDB Local's jar inside the amplify-dynamodb-simulator package. */
const jarDir = () =>
  join(
    dirname(createRequire(import.meta.url).resolve('amplify-dynamodb-simulator/package.json')),
    'emulator',
  );

/** Whether a `java` runs here. */
export const hasJava = () => spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

function assertJava(): void {
  if (!hasJava())
    throw new DynamoDbLocalError(
      'DynamoDB Local is a Java program and no `java` runs here: install a JRE (apt-get install openjdk-17-jre-headless), or use dynalite (the default).',
    );
}

/** A port free on 127.0.0.1 now (the JVM binds it a moment later; a taken one is retried). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

/**
 * Starts DynamoDB Local with one database whatever the credentials (`-sharedDb`: the functions and the
 * operators sign with different keys): in memory, or in `dbPath` (kept across restarts).
 */
export async function startDynamoDbLocal(
  opts: { dbPath?: string } = {},
  attempt = 1,
): Promise<DynamoDbLocal> {
  assertJava();
  const port = await freePort();
  const store = opts.dbPath ? ['-dbPath', opts.dbPath] : ['-inMemory'];
  const jvm = spawn(
    'java',
    [
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      ...store,
      '-sharedDb',
      '-port',
      String(port),
    ],
    { cwd: jarDir(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<boolean>((resolve) => {
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Port:\t${port}`) || output.includes(`Port: ${port}`)) resolve(true);
    };
    jvm.stdout.on('data', read);
    jvm.stderr.on('data', read);
    jvm.once('error', (e) => {
      output += String(e);
      resolve(false);
    });
    jvm.once('exit', () => resolve(false));
    setTimeout(() => resolve(false), 30_000).unref();
  });
  if (!(await ready)) {
    jvm.kill('SIGKILL');
    if (attempt < 3) return startDynamoDbLocal(opts, attempt + 1);
    throw new DynamoDbLocalError(`DynamoDB Local did not start on port ${port}:\n${output}`);
  }
  const url = `http://127.0.0.1:${port}`;
  // The banner comes before the socket accepts: wait until a request is answered.
  for (let i = 0; i < 100; i += 1) {
    const answered = await fetch(url).then(
      () => true,
      () => false,
    );
    if (answered) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (jvm.exitCode !== null || jvm.signalCode !== null) return resolve();
        jvm.once('exit', () => resolve());
        jvm.kill();
      }),
  };
}

/**
 * A request handler that forwards each request to `base` and answers with its response, whole (one
 * `res.end(body)`, which the DynamoDB meter reads). An unreachable emulator is a 503 the SDK retries.
 */
export function forwardTo(base: string): RequestListener {
  const target = new URL(base);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  return (req, res) => {
    const { connection: _c, host: _h, ...headers } = req.headers;
    const out = request(
      {
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...headers, host: target.host },
        agent,
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const { connection: _uc, 'transfer-encoding': _te, ...upHeaders } = up.headers;
          res.writeHead(up.statusCode ?? 502, upHeaders);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    out.on('error', (e) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'ServiceUnavailable', message: `DynamoDB Local: ${e.message}` }));
    });
    req.pipe(out);
  };
}

const ENGINE_FILE = 'dynamodb-engine';
const ENGINE_NAMES: Record<DynamoEngine, string> = {
  dynalite: 'dynalite',
  'dynamodb-local': 'DynamoDB Local',
};

/**
 * Records which DynamoDB a data folder's tables live in, and refuses the other one: its executions and
 * its clock would resume against empty tables. A folder from before the file existed is dynalite's if
 * dynalite's database is there. DynamoDB Local also needs a `java` here: checked first, said plainly.
 */
export function claimEngine(dataDir: string, engine: DynamoEngine): void {
  if (engine === 'dynamodb-local') assertJava();
  const file = join(dataDir, ENGINE_FILE);
  const recorded = existsSync(file)
    ? (readFileSync(file, 'utf8').trim() as DynamoEngine)
    : existsSync(join(dataDir, 'dynamodb'))
      ? 'dynalite'
      : undefined;
  if (recorded && recorded !== engine)
    throw new DynamoDbLocalError(
      `The data folder ${dataDir} holds ${ENGINE_NAMES[recorded] ?? recorded}'s tables, so it cannot start on ${ENGINE_NAMES[engine]}: pass --fresh to empty it, or another --data.`,
    );
  if (engine === 'dynamodb-local')
    mkdirSync(join(dataDir, 'dynamodb-local'), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${engine}\n`, { mode: 0o600 });
}
