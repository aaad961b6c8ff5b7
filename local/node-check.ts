// Refuses to run Handoff's functions locally on a Node.js major other than their Lambda runtime's, before
// the slow synthesis and startup, with the exact fix.
//
// Why this process's Node.js: the local runtime runs every function in a worker thread of the process
// that started it (local/lambda-pool.ts), so `process.version` is the functions' Node.js. Why refuse
// rather than warn: on an older major the functions load and then fail every run (on Node 20:
// "Promise.withResolvers is not a function"), which reads as a bug in Handoff. npm scripts run on the
// Node.js that the node-<os>-<cpu> optionalDependency links at node_modules/.bin/node, because npm puts
// node_modules/.bin first on their PATH; npm 10 leaves that link out (scripts/install-guard/check.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LAMBDA_RUNTIME } from '../infra/constructs/handoff-function.ts';
import { majorOf } from './template.ts';

const root = join(import.meta.dirname, '..');

export interface NodeFacts {
  /** The running Node.js (`process.version`): the one the functions' worker threads would run on. */
  running: string;
  /** Where the running Node.js is (`process.execPath`), to name the one that was found on PATH. */
  execPath: string;
  /** The functions' Lambda runtime, e.g. `nodejs24.x`. */
  lambdaRuntime: string;
  /**
   * The version of the project's node_modules/.bin/node: undefined when it is missing, '' when it is
   * there but did not say its version.
   */
  projectNode: string | undefined;
  /** True when an npm script started this process (npm sets `npm_lifecycle_event`). */
  viaNpm: boolean;
  /** The npm command that runs this again, e.g. `npm start`. */
  command: string;
  /** The script this process runs, e.g. `local/start.ts`. */
  script: string;
}

/** Undefined when the functions may run on this Node.js; else one line: what is wrong and what to run. */
export function nodeMismatch(f: NodeFacts): string | undefined {
  const want = majorOf(f.lambdaRuntime);
  if (majorOf(f.running) === want) return undefined;
  const head = `Handoff runs its functions on Node.js ${want} (their Lambda runtime is ${f.lambdaRuntime}), not on Node.js ${f.running} (${f.execPath}):`;
  if (f.projectNode === undefined) {
    return `${head} node_modules/.bin/node is missing (npm older than 11 leaves it out); run npx npm@11 install, then ${f.command}`;
  }
  if (f.projectNode !== '' && majorOf(f.projectNode) !== want) {
    return `${head} node_modules/.bin/node is Node.js ${f.projectNode}; run npx npm@11 install to get the Node.js ${want} that package.json names, then ${f.command}`;
  }
  const found = f.projectNode ? ` (Node.js ${f.projectNode})` : '';
  if (f.viaNpm) {
    // npm puts node_modules/.bin first on a script's PATH; a script-shell or profile may not keep it there.
    return `${head} something put it before node_modules/.bin/node${found} on npm's PATH; run node_modules/.bin/node --import tsx ${f.script}`;
  }
  return `${head} run ${f.command}, which puts node_modules/.bin/node${found} first on PATH`;
}

/** The version node_modules/.bin/node reports: undefined when there is none, '' when it does not say. */
export function projectNodeVersion(dir = root): string | undefined {
  const bin = join(dir, 'node_modules', '.bin', 'node');
  if (!existsSync(bin)) return undefined;
  try {
    // On POSIX the link's target is the binary; on Windows .bin/node is a shell shim that cannot be run.
    return execFileSync(realpathSync(bin), ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    return '';
  }
}

/**
 * Exits with the fix when this process's Node.js is not the functions' Lambda runtime major. Call it first
 * in a command that runs the functions locally; `command` names that command when npm did not start it.
 */
export function exitUnlessLambdaNode(command: string): void {
  const event = process.env.npm_lifecycle_event;
  const problem = nodeMismatch({
    running: process.version,
    execPath: process.execPath,
    lambdaRuntime: LAMBDA_RUNTIME.name,
    // Only asked when the majors differ: running the binary costs a process start.
    projectNode: majorOf(process.version) === majorOf(LAMBDA_RUNTIME.name) ? '' : projectNodeVersion(),
    viaNpm: Boolean(event),
    command: event === 'start' || event === 'test' ? `npm ${event}` : event ? `npm run ${event}` : command,
    script: relative(process.cwd(), process.argv[1] ?? '') || 'local/start.ts',
  });
  if (!problem) return;
  console.error(problem);
  process.exit(1);
}
