// Part of `npm run bench`: per function, the bundle (raw and gzip, its three largest inputs, from esbuild's
// metafile) and its cold import: a fresh Node process importing it, as a ratio to an empty module and to
// the AWS SDK clients it uses alone (median of `runs`, default 11, interleaved, all in the same run). The
// clients alone: a bundle built with the same options that constructs each client the function bundles and
// imports one command of it (what the function cannot start faster than). Expects cdk.out.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { functionsOf, loadTemplate } from '../local/template.ts';

export interface BundleFigures {
  functionId: string;
  bytes: number;
  gzipBytes: number;
  /** The three packages (or Handoff's own code) that put the most bytes into the bundle. */
  largestInputs: { name: string; bytes: number }[];
  coldImportMs: number;
  /** `coldImportMs` ÷ the empty module's, measured in the same run. */
  coldRatio: number;
  /** The SDK clients the bundle holds, built and imported alone; `ratio` is the function's ÷ theirs. */
  sdkClients?: { packages: string[]; bytes: number; coldImportMs: number; ratio: number };
}

export interface BundlesReport {
  runs: number;
  emptyMs: number;
  /** Reference imports from node_modules in the same run: what one dependency alone costs at cold start. */
  references: { module: string; coldImportMs: number; coldRatio: number }[];
  functions: BundleFigures[];
}

/** Each SDK package a function may bundle: how the reference constructs its client, and one command. */
const CLIENTS: Record<string, { imports: string; construct: string }> = {
  'client-dynamodb': {
    imports: "import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';",
    construct: 'new DynamoDBClient({}), GetItemCommand',
  },
  'lib-dynamodb': {
    imports:
      "import { DynamoDBClient as D } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';",
    construct: 'DynamoDBDocumentClient.from(new D({})), GetCommand',
  },
  'client-sfn': {
    imports: "import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';",
    construct: 'new SFNClient({}), SendTaskSuccessCommand',
  },
  'client-ses': {
    imports: "import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';",
    construct: 'new SESClient({}), SendEmailCommand',
  },
  'client-secrets-manager': {
    imports: "import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';",
    construct: 'new SecretsManagerClient({}), GetSecretValueCommand',
  },
};

const root = join(import.meta.dirname, '..');
/** What a handler cannot import for less: the SDK client the data layer uses, and the logger. */
const REFERENCES = ['@aws-sdk/client-dynamodb', '@aws-lambda-powertools/logger'];
const median = (xs: number[] = []) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function coldImport(file: string, env: Record<string, string>): number {
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(file)});`],
    {
      env: { ...process.env, ...env, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr.slice(0, 400)}`);
  return performance.now() - started;
}

export async function measureBundles(
  opts: { runs?: number; progress?: boolean } = {},
): Promise<BundlesReport> {
  const runs = opts.runs ?? 11;
  const out = join(root, 'cdk.out');
  const template = loadTemplate(out);
  const apiOverrides = Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api')
      .map(([id]) => [`${id}.ApiEndpoint`, 'https://example.invalid']),
  );
  const fns = functionsOf(template, {
    region: 'us-east-1',
    account: '000000000000',
    overrides: apiOverrides,
  });

  const scratch = mkdtempSync(join(out, 'bench-'));
  try {
    const emptyModule = join(scratch, 'empty.mjs');
    writeFileSync(emptyModule, 'export const handler = async () => {};\n');
    const references = REFERENCES.map((module, i) => {
      const file = join(scratch, `reference-${i}.mjs`);
      writeFileSync(file, `import ${JSON.stringify(module)};\n`);
      return { module, file };
    });
    // Per function, the SDK packages its metafile shows bundled, and a bundle of their clients alone.
    const metaOf = (assetPath: string) =>
      JSON.parse(readFileSync(join(out, assetPath, 'index.meta.json'), 'utf8')) as {
        outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
      };
    const sdkClients = new Map<string, { packages: string[]; file: string; bytes: number }>();
    for (const f of fns) {
      const inputs = Object.values(metaOf(f.assetPath).outputs).flatMap((o) => Object.keys(o.inputs));
      const packages = Object.keys(CLIENTS).filter((p) =>
        inputs.some((i) => i.includes(`node_modules/@aws-sdk/${p}/`)),
      );
      if (!packages.length) continue;
      const dir = join(scratch, f.id);
      const source = join(dir, 'clients.mjs');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        source,
        `${packages.map((p) => CLIENTS[p]?.imports).join('\n')}\nexport const clients = [${packages.map((p) => CLIENTS[p]?.construct).join(', ')}];\n`,
      );
      const file = join(dir, 'index.mjs');
      // The same options as infra/constructs/handoff-function.ts.
      await build({
        entryPoints: [source],
        outfile: file,
        bundle: true,
        minify: true,
        keepNames: true,
        format: 'esm',
        platform: 'node',
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: {
          js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        },
        logLevel: 'error',
      });
      sdkClients.set(f.id, { packages, file, bytes: statSync(file).size });
    }
    const times = new Map<string, number[]>();
    const record = (key: string, ms: number) => times.set(key, [...(times.get(key) ?? []), ms]);
    for (let i = 0; i < runs; i++) {
      record('empty', coldImport(emptyModule, {}));
      for (const r of references) record(r.module, coldImport(r.file, {}));
      for (const f of fns) {
        record(f.id, coldImport(join(out, f.assetPath, 'index.mjs'), f.environment));
        const clients = sdkClients.get(f.id);
        if (clients) record(`${f.id}+clients`, coldImport(clients.file, f.environment));
      }
      if (opts.progress) process.stderr.write(`\r  cold imports: round ${i + 1}/${runs} `);
    }
    if (opts.progress) process.stderr.write('\n');
    const emptyMs = median(times.get('empty'));
    const functions = fns.map((f): BundleFigures => {
      const dir = join(out, f.assetPath);
      const code = readFileSync(join(dir, 'index.mjs'));
      const meta = metaOf(f.assetPath);
      const byPackage = new Map<string, number>();
      for (const o of Object.values(meta.outputs)) {
        for (const [path, { bytesInOutput }] of Object.entries(o.inputs)) {
          const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? '(handoff code)';
          byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
        }
      }
      const ms = median(times.get(f.id));
      const clients = sdkClients.get(f.id);
      const clientsMs = median(times.get(`${f.id}+clients`));
      return {
        functionId: f.id,
        bytes: code.length,
        gzipBytes: gzipSync(code).length,
        largestInputs: [...byPackage.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([name, bytes]) => ({ name, bytes })),
        coldImportMs: ms,
        coldRatio: ms / emptyMs,
        ...(clients
          ? {
              sdkClients: {
                packages: clients.packages,
                bytes: clients.bytes,
                coldImportMs: clientsMs,
                ratio: ms / clientsMs,
              },
            }
          : {}),
      };
    });
    return {
      runs,
      emptyMs,
      references: references.map(({ module }) => {
        const ms = median(times.get(module));
        return { module, coldImportMs: ms, coldRatio: ms / emptyMs };
      }),
      functions,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function bundlesMarkdown(r: BundlesReport): string {
  const rows = r.functions.map(
    (f) =>
      `| ${f.functionId} | ${kib(f.bytes)} | ${kib(f.gzipBytes)} | ${f.coldImportMs.toFixed(0)} ms | ${f.coldRatio.toFixed(2)} | ${f.sdkClients ? `${f.sdkClients.packages.join(', ')} | ${kib(f.sdkClients.bytes)} | ${f.sdkClients.coldImportMs.toFixed(0)} ms | ${f.sdkClients.ratio.toFixed(2)}` : '– | – | – | –'} | ${f.largestInputs.map((i) => `${i.name} ${kib(i.bytes)}`).join(', ')} |`,
  );
  return [
    `Cold import: a fresh \`node\` (${process.version}) process importing the bundle, wall time, median of ${r.runs}, beside an empty module in the same run (${r.emptyMs.toFixed(1)} ms). "SDK clients alone": a bundle built the same way that constructs each client the function bundles and imports one command of it; "× clients" is the function's cold import ÷ theirs (the goal: ≤ 1.2).`,
    '',
    '| function | bundle | gzip | cold import | × empty | SDK clients | alone | cold import | × clients | largest inputs |',
    '|---|---:|---:|---:|---:|---|---:|---:|---:|---|',
    ...rows,
    '',
    `For reference, the same run: ${r.references.map((x) => `\`import '${x.module}'\` alone ${x.coldImportMs.toFixed(0)} ms (${x.coldRatio.toFixed(2)}× empty)`).join('; ')}.`,
  ].join('\n');
}
