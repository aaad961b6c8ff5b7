import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBrowser } from '#test/fixtures/browser.ts';
import {
  type BrowserInputs,
  BrowserNotFound,
  describeBrowser,
  installedLocations,
  resolveBrowser,
} from '#test/fixtures/browser-resolve.ts';
import { root } from '#test/fixtures/root.ts';

const packaged = { dir: '/repo/node_modules/@sparticuz/chromium', version: '153.0.0' };

/** A Linux x64 machine with the package installed, where only `files` are executable. */
const machine = (files: string[], over: Partial<BrowserInputs> = {}): BrowserInputs => ({
  env: {},
  platform: 'linux',
  arch: 'x64',
  isExecutable: (path) => files.includes(path),
  packaged,
  ...over,
});

const failure = (inputs: BrowserInputs): BrowserNotFound => {
  try {
    resolveBrowser(inputs);
  } catch (error) {
    if (error instanceof BrowserNotFound) return error;
    throw error;
  }
  throw new Error('resolveBrowser found a browser');
};

describe('the browser the tests use', () => {
  it('takes HANDOFF_BROWSER first, before CHROME_PATH and any installed browser', () => {
    const env = { HANDOFF_BROWSER: '/opt/mine/chrome', CHROME_PATH: '/opt/other/chrome' };
    const choice = resolveBrowser(
      machine(['/opt/mine/chrome', '/opt/other/chrome', '/usr/bin/chromium'], { env }),
    );
    expect(choice).toEqual({ kind: 'path', path: '/opt/mine/chrome', from: 'HANDOFF_BROWSER' });
  });

  it('takes CHROME_PATH when HANDOFF_BROWSER is unset or empty', () => {
    const env = { HANDOFF_BROWSER: '', CHROME_PATH: '/opt/other/chrome' };
    expect(resolveBrowser(machine(['/opt/other/chrome', '/usr/bin/chromium'], { env }))).toEqual({
      kind: 'path',
      path: '/opt/other/chrome',
      from: 'CHROME_PATH',
    });
  });

  it('fails with one line naming the variable and path when it names no executable, never falling through', () => {
    const error = failure(machine(['/usr/bin/chromium'], { env: { HANDOFF_BROWSER: '/nonexistent' } }));
    expect(error.message).toBe(
      'HANDOFF_BROWSER=/nonexistent is not an executable file: point it at a Chromium, Chrome or Edge binary, or unset it',
    );
    expect(failure(machine([], { env: { CHROME_PATH: '/Applications/Google Chrome.app' } })).message).toMatch(
      /^CHROME_PATH=\/Applications\/Google Chrome\.app is not an executable file/,
    );
  });

  it('prints just the message: no stack trace under it', () => {
    const error = failure(machine([], { packaged: undefined }));
    expect(error.stack).toBe(`BrowserNotFound: ${error.message}`);
    expect(error.message).not.toContain('\n');
  });

  it('prefers an installed browser to the packaged one, Debian chromium before Chrome, Edge and the snap', () => {
    const all = [
      '/snap/bin/chromium',
      '/usr/bin/microsoft-edge',
      '/usr/bin/google-chrome-stable',
      '/usr/bin/chromium-browser',
    ];
    expect(resolveBrowser(machine(all))).toEqual({
      kind: 'path',
      path: '/usr/bin/chromium-browser',
      from: 'installed',
    });
    expect(resolveBrowser(machine(['/usr/bin/chromium', ...all]))).toMatchObject({
      path: '/usr/bin/chromium',
    });
    expect(resolveBrowser(machine(['/snap/bin/chromium', '/opt/google/chrome/chrome']))).toMatchObject({
      path: '/opt/google/chrome/chrome',
    });
    expect(resolveBrowser(machine(['/snap/bin/chromium']))).toMatchObject({ path: '/snap/bin/chromium' });
  });

  it('falls back to @sparticuz/chromium on Linux x64 with nothing installed', () => {
    expect(resolveBrowser(machine([]))).toEqual({ kind: 'packaged', ...packaged });
  });

  it('says to install or npm install when Linux x64 has no browser and no package', () => {
    expect(failure(machine([], { packaged: undefined })).message).toBe(
      'No browser for the browser tests: set HANDOFF_BROWSER=/path/to/chrome, install Chromium/Chrome, or run npm install (installs @sparticuz/chromium on Linux)',
    );
  });

  it('never offers the x64-only package where it cannot run (Linux arm64, macOS)', () => {
    const line =
      'No browser for the browser tests: set HANDOFF_BROWSER=/path/to/chrome or install Chromium/Chrome/Edge (@sparticuz/chromium runs on Linux x64 only)';
    expect(failure(machine([], { arch: 'arm64' })).message).toBe(line);
    expect(failure(machine([], { platform: 'darwin', arch: 'arm64' })).message).toBe(line);
  });

  it('finds Chrome, Chromium and Edge in macOS /Applications', () => {
    const edge = '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge';
    expect(resolveBrowser(machine([edge], { platform: 'darwin', arch: 'arm64' }))).toEqual({
      kind: 'path',
      path: edge,
      from: 'installed',
    });
    expect(installedLocations('darwin', {})).toEqual([
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      edge,
    ]);
  });

  it('finds Chrome per user (LOCALAPPDATA) before Program Files on Windows, and Edge, which ships with Windows', () => {
    const env = {
      LOCALAPPDATA: 'C:\\Users\\ada\\AppData\\Local',
      PROGRAMFILES: 'C:\\Program Files',
      'PROGRAMFILES(X86)': 'C:\\Program Files (x86)',
    };
    const edge = 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe';
    const chrome = 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe';
    const windows = { platform: 'win32', arch: 'x64', env } as const;
    expect(resolveBrowser(machine([edge], windows))).toMatchObject({ path: edge, from: 'installed' });
    expect(resolveBrowser(machine([edge, chrome], windows))).toMatchObject({ path: chrome });
    expect(installedLocations('win32', env)[0]).toBe(
      'C:\\Users\\ada\\AppData\\Local\\Google\\Chrome\\Application\\chrome.exe',
    );
    // A root that is not set adds no relative path.
    expect(
      installedLocations('win32', { PROGRAMFILES: 'C:\\Program Files' }).every((p) => p.startsWith('C:')),
    ).toBe(true);
  });

  it('describes the choice in one line for the logs', () => {
    expect(describeBrowser({ kind: 'path', path: '/usr/bin/chromium', from: 'installed' })).toBe(
      'browser: /usr/bin/chromium (installed)',
    );
    expect(describeBrowser({ kind: 'path', path: '/opt/c', from: 'HANDOFF_BROWSER' })).toBe(
      'browser: /opt/c (from HANDOFF_BROWSER)',
    );
    expect(describeBrowser({ kind: 'packaged', ...packaged })).toBe(
      'browser: @sparticuz/chromium 153.0.0 (Chromium from the npm package)',
    );
  });

  it('checks the real file system: a missing HANDOFF_BROWSER or a folder is refused', () => {
    expect(() => chooseBrowser({ HANDOFF_BROWSER: '/nonexistent' })).toThrow(
      'HANDOFF_BROWSER=/nonexistent is not an executable file',
    );
    expect(() => chooseBrowser({ HANDOFF_BROWSER: import.meta.dirname })).toThrow(BrowserNotFound);
    expect(chooseBrowser({ HANDOFF_BROWSER: process.execPath })).toEqual({
      kind: 'path',
      path: process.execPath,
      from: 'HANDOFF_BROWSER',
    });
  });
});

describe('test/which-browser.ts (what .ci/run prints)', () => {
  const which = (env: NodeJS.ProcessEnv) =>
    spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'test/which-browser.ts')], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });

  it('prints the chosen browser in one line', () => {
    const run = which({ HANDOFF_BROWSER: process.execPath });
    expect(run.stdout).toBe(`browser: ${process.execPath} (from HANDOFF_BROWSER)\n`);
    expect(run.status).toBe(0);
  });

  it('prints what to fix in one line and exits 1 when there is no browser', () => {
    const run = which({ HANDOFF_BROWSER: '/nonexistent' });
    expect(run.stdout).toBe(
      'browser: none. HANDOFF_BROWSER=/nonexistent is not an executable file: point it at a Chromium, Chrome or Edge binary, or unset it\n',
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
  });
});
