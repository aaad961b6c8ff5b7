import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { unpackChromium } from '#test/fixtures/packaged-chromium.ts';

/** A package shaped like @sparticuz/chromium's bin/ folder, with tiny stand-ins for its files. */
function fakePackage(): { packageDir: string; cacheDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'handoff-packaged-'));
  const bin = join(root, 'pkg/bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'chromium.br'), brotliCompressSync('#!/bin/sh\necho chromium\n'));
  const tarBr = (name: string, files: Record<string, string>) => {
    const src = join(root, `src-${name}`);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(src, file, '..'), { recursive: true });
      writeFileSync(join(src, file), text);
    }
    const tar = execFileSync('tar', ['-c', '-C', src, ...Object.keys(files)]);
    writeFileSync(join(bin, `${name}.tar.br`), brotliCompressSync(tar));
  };
  tarBr('al2023', { 'lib/libnss3.so': 'nss' });
  tarBr('fonts', { 'fonts.conf': '<dir>/tmp/fonts</dir>', 'fonts/Open_Sans/OpenSans-Regular.ttf': 'font' });
  return { packageDir: join(root, 'pkg'), cacheDir: join(root, 'cache') };
}

describe('the packaged Chromium', () => {
  it('unpacks the browser, its libraries and fonts once into a folder named by version', async () => {
    const { packageDir, cacheDir } = fakePackage();
    const first = await unpackChromium(packageDir, '153.0.0', cacheDir, {
      LD_LIBRARY_PATH: '/usr/local/lib',
    });
    const dir = join(cacheDir, 'handoff-chromium-153.0.0');
    expect(first).toEqual({
      executable: join(dir, 'chromium'),
      env: {
        LD_LIBRARY_PATH: `${join(dir, 'lib')}:/usr/local/lib`,
        FONTCONFIG_FILE: join(dir, 'fonts.conf'),
      },
      unpacked: true,
    });
    expect(execFileSync(first.executable, { encoding: 'utf8' })).toBe('chromium\n');
    expect(readFileSync(join(dir, 'lib/libnss3.so'), 'utf8')).toBe('nss');
    // Our fontconfig file, not the package's (which names Lambda's /tmp/fonts): system fonts plus Open Sans.
    const conf = readFileSync(join(dir, 'fonts.conf'), 'utf8');
    expect(conf).toContain('<include ignore_missing="yes">/etc/fonts/fonts.conf</include>');
    expect(conf).toContain(`<dir>${join(dir, 'fonts')}</dir>`);
    expect(conf).not.toContain('/tmp/fonts');
    expect(existsSync(join(dir, 'fonts/Open_Sans/OpenSans-Regular.ttf'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tar'))).toEqual([]);
    expect(readdirSync(cacheDir)).toEqual(['handoff-chromium-153.0.0']);

    const again = await unpackChromium(packageDir, '153.0.0', cacheDir, {});
    expect(again).toMatchObject({ unpacked: false, env: { LD_LIBRARY_PATH: join(dir, 'lib') } });
  });

  it('removes the staging folder of a process that died mid-unpack, and keeps a running one', async () => {
    const { packageDir, cacheDir } = fakePackage();
    const dead = join(cacheDir, 'handoff-chromium-153.0.0.partial-999999999-0badf00d');
    const alive = join(cacheDir, `handoff-chromium-153.0.0.partial-${process.ppid}-0badf00d`);
    mkdirSync(dead, { recursive: true });
    mkdirSync(alive);
    writeFileSync(join(dead, 'chromium'), 'cut short');
    await unpackChromium(packageDir, '153.0.0', cacheDir, {});
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    expect(statSync(join(cacheDir, 'handoff-chromium-153.0.0/chromium')).size).toBeGreaterThan(0);
  });

  it('takes the copy of a process that finished first', async () => {
    const { packageDir, cacheDir } = fakePackage();
    const results = await Promise.all([
      unpackChromium(packageDir, '153.0.0', cacheDir, {}),
      unpackChromium(packageDir, '153.0.0', cacheDir, {}),
    ]);
    expect(results.map((r) => r.executable)).toEqual([
      join(cacheDir, 'handoff-chromium-153.0.0/chromium'),
      join(cacheDir, 'handoff-chromium-153.0.0/chromium'),
    ]);
    expect(readdirSync(cacheDir)).toEqual(['handoff-chromium-153.0.0']);
  });
});
