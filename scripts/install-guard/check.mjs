// The preinstall script of Handoff's local devDependency `handoff-install-guard`: stops an install by
// npm < 11 with one line that says what to run instead. Plain JavaScript with no imports beyond Node's,
// because it runs on whatever Node.js runs npm (Node 20 too), before anything else is usable.
//
// Why npm 10 cannot install Handoff: the node-<os>-<cpu> optionalDependencies all ship a bin named
// `node`. npm 10 installs the one for this machine and links node_modules/.bin/node, then cleans up the
// packages for other platforms together with their bin paths, which are that same node_modules/.bin/node
// (npm/cli#4362): the install exits 0 with no Node.js 24. It also drops the lock file's `libc` fields,
// rewriting package-lock.json. npm 11 leaves other platforms' packages out before it links anything.
//
// Why a dependency's preinstall and not the root package's: npm runs the root's own install scripts
// only after it has saved package-lock.json, while a dependency's script runs as npm builds the tree and
// its failure rolls the install back before the lock file is written.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The version of the npm running this script: from its own package.json beside `npm_execpath` (the
 * npm-cli.js that runs), else from the user agent. The user agent alone can mislead: an npm started from
 * another npm's script (`npx npm@10 install`) inherits the outer one's `npm_config_user_agent`.
 */
function runningNpm(env) {
  if (env.npm_execpath) {
    try {
      const pkg = JSON.parse(readFileSync(join(dirname(env.npm_execpath), '..', 'package.json'), 'utf8'));
      if (pkg.name === 'npm' && typeof pkg.version === 'string') return pkg.version;
      if (typeof pkg.name === 'string') return undefined; // another package manager's CLI (yarn, pnpm)
    } catch {
      // not inside a package: fall back to the user agent
    }
  }
  return /^npm\/(\d+\.\S+)/.exec(env.npm_config_user_agent ?? '')?.[1];
}

/** The one line to stop with, or undefined when this npm may install Handoff. */
function verdict(env) {
  const version = runningNpm(env);
  if (!version || Number(version.split('.')[0]) >= 11) return undefined;
  // npm ci writes no lock file; npm install (with or without package names) does.
  const ci = env.npm_command === 'ci';
  const harm = ci ? 'would leave out Node.js 24' : 'would leave out Node.js 24 and rewrite package-lock.json';
  return `Handoff needs npm ≥ 11 (this is npm ${version}, which ${harm}): run npx npm@11 ${ci ? 'ci' : 'install'}, or npm install -g npm@11 once`;
}

const line = verdict(process.env);
if (line) {
  console.error(line);
  process.exit(1);
}
