// npm run demo: a realistic mixed batch through Handoff, against a running `npm start` or one it starts.
// Acts as the reps from the assignment emails in the mailbox, then prints a funnel from the table.
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { actAsPeople, demoOf, postBatch, printFunnel, verdict, whereToLook } from './demo-phases.ts';
import { cleanUp, openStack } from './demo-stack.ts';

export { tagged } from './demo-phases.ts';

export const USAGE = `Usage: npm run demo -- [--data <folder> | --api <url> | --own] [--tag <id>] [--time-scale N] [--timeout S]

Posts a mixed batch of 11 leads (and a same-day resubmit) to Handoff, acts as the reps and as a lead who
unsubscribes, and prints the funnel. It works at any time scale: what a form answers at once (the reps'
assignment emails) takes seconds; the unsubscribe needs a nurture email, which waits for the lead's business
hours, and is skipped, with the reason and the command that shows it, when those are further away than
the timeout at the stack's time scale.

  --data FOLDER     the running \`npm start\` to use: its data folder (its --data; default .handoff), whose
                    stack.json says where it listens and its time scale
  --api URL         the Handoff to use instead (its time scale is known only if the --data folder is its)
  --own             start the demo's own stack even if one runs. Also when none is found: the demo starts
                    its own stack in a temporary folder, and stops it and removes the folder (the leads'
                    data) when it ends, also on an error or Ctrl-C: its Console and Mailbox are gone then.
                    Run \`npm start -- --time-scale 86400\` first to look around afterwards.
  --tag ID          added to the demo's email addresses (maria.garcia.ID@…), 1–12 letters or digits; default
                    a new random one each run, so a second demo the same day starts new runs (a run is named
                    by lead id + form + day: the same people again the same day start nothing)
  --time-scale N    time scale of a stack the demo starts itself (default 86400: a day per second)
  --timeout S       seconds to wait for the runs (default 180)
  -h, --help        this help

Exit codes: 0 done (parts the time scale does not allow are skipped and said so) · 1 the demo did not
complete what the stack's time scale allows (or failed) · 2 usage error`;

const FLAGS = {
  api: { type: 'string' },
  data: { type: 'string', default: '.handoff' },
  own: { type: 'boolean', default: false },
  tag: { type: 'string' },
  'time-scale': { type: 'string', default: '86400' },
  timeout: { type: 'string', default: '180' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

class UsageError extends Error {}

/** The options, or a UsageError (unknown option, bad value). */
export function demoOptions(argv: string[]) {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof FLAGS; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: FLAGS, strict: true }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const tag = values.tag ?? randomBytes(2).toString('hex');
  if (!/^[a-z0-9]{1,12}$/i.test(tag))
    throw new UsageError(`--tag must be 1–12 letters or digits, not "${tag}"`);
  if (values.api !== undefined && !URL.canParse(values.api))
    throw new UsageError(`--api must be a URL such as http://127.0.0.1:3000, not "${values.api}"`);
  if (values.api !== undefined && values.own)
    throw new UsageError('--api (a running stack) and --own (the demo starts its own) exclude each other');
  for (const k of ['time-scale', 'timeout'] as const) {
    if (!(Number(values[k]) > 0))
      throw new UsageError(`--${k} must be a positive number, not "${values[k]}"`);
  }
  return { ...values, tag: tag.toLowerCase() };
}

/** The demo, phase by phase (scripts/demo-phases.ts); the exit code. */
async function main(v: ReturnType<typeof demoOptions>) {
  const started = Date.now();
  const stack = await openStack(v);
  const demo = demoOf(stack, { tag: v.tag, timeout: v.timeout, data: v.data });
  if (!(await postBatch(demo))) return 1;
  const acted = await actAsPeople(demo);
  await printFunnel(demo, started);
  await whereToLook(demo);
  return verdict(demo, acted);
}

async function run(argv: string[]): Promise<number> {
  let o: ReturnType<typeof demoOptions>;
  try {
    o = demoOptions(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const interrupted = () => {
    console.error('\nInterrupted: stopping the demo’s own stack and removing its data folder …');
    void cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await main(o);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    return 1;
  } finally {
    await cleanUp();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run(process.argv.slice(2)).then((code) => process.exit(code));
}
