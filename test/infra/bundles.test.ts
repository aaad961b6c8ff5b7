import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { functionsOf, loadTemplate } from '#local/template.ts';

/** Each function's bundle as esbuild reports it in the metafile the synth wrote next to it. */
function bundles() {
  const cdkOut = inject('cdkOut');
  const template = loadTemplate(cdkOut);
  const apis = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
  const names = {
    region: 'us-east-1',
    account: '000000000000',
    overrides: Object.fromEntries(apis.map(([id]) => [`${id}.ApiEndpoint`, 'https://api.handoff.test'])),
  };
  return functionsOf(template, names).map((f) => {
    const meta = JSON.parse(readFileSync(join(cdkOut, f.assetPath, 'index.meta.json'), 'utf8')) as {
      outputs: Record<
        string,
        { bytes: number; inputs: Record<string, unknown>; imports: { path: string; external?: boolean }[] }
      >;
    };
    const [, output] = Object.entries(meta.outputs).find(([path]) => path.endsWith('.mjs')) ?? [];
    if (!output) throw new Error(`${f.id}: no .mjs output in its metafile`);
    const code = readFileSync(join(cdkOut, f.assetPath, 'index.mjs'), 'utf8');
    return {
      id: f.id,
      bytes: output.bytes,
      inputs: Object.keys(output.inputs),
      imports: output.imports,
      code,
    };
  });
}

/** Each bundle, the AWS SDK inside (its clients are 300–430 KB of it): measured 500–560 KiB. */
const BUDGET = 640 * 1000;
/**
 * Bundles allowed more, each with why. InboundReply parses whole MIME messages with mailparser (the
 * issue's choice: charsets through iconv-lite's tables, HTML to text, link detection): 1,691 KB measured.
 * It runs once per reply to a nurture email, never on a lead's way through the journey.
 */
const OVER_BUDGET: Record<string, number> = { InboundReply: 1800 * 1000 };

describe('bundle budget (esbuild metafiles of the synthesized app)', () => {
  const all = bundles();

  it('has a bundle for every function', () => {
    expect(all.map((b) => b.id).sort()).toEqual(
      expect.arrayContaining(['AssignRep', 'CaptureLead', 'Nurture', 'RepAction', 'SesEvents', 'SubmitLead']),
    );
    expect(all.length).toBeGreaterThanOrEqual(13);
  });

  it.each(bundles().map((b) => [b.id, b] as const))(
    '%s is within its budget (640 KB minified unless said)',
    (_, b) => {
      expect(b.bytes).toBeGreaterThan(10_000);
      const budget = OVER_BUDGET[b.id] ?? BUDGET;
      expect(b.bytes, `${b.id} is ${(b.bytes / 1000).toFixed(0)} KB`).toBeLessThanOrEqual(budget);
    },
  );

  it('keeps class names through minification, so run histories show real error names', () => {
    const assign = all.find((b) => b.id === 'AssignRep');
    for (const name of ['NoRepAvailableError', 'TransientError', 'StepInputError']) {
      expect(assign?.code).toContain(`"${name}"`);
    }
  });

  it('bundles zod/mini, never classic zod, and the AWS SDK at the version package.json pins', () => {
    const pinned = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const sdk = Object.entries(pinned.dependencies).filter(([name]) => name.startsWith('@aws-sdk/'));
    expect(sdk.length).toBeGreaterThanOrEqual(4);
    // Pinned exactly (no range): a lockfile refresh cannot change what a deploy ships.
    for (const [name, version] of sdk) expect(version, name).toMatch(/^\d+\.\d+\.\d+$/);
    for (const b of all) {
      expect(
        b.inputs.filter((i) => /node_modules\/zod\/v4\/classic\//.test(i)),
        b.id,
      ).toEqual([]);
      expect(
        b.inputs.some((i) => /node_modules\/@aws-sdk\/(client-dynamodb|lib-dynamodb)\//.test(i)),
        b.id,
      ).toBe(true);
      // Nothing is left to the runtime but Node's own modules.
      const external = b.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path);
      expect(external, b.id).toEqual([]);
    }
  });
});
