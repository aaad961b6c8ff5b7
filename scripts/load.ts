// npm run test:load [-- --leads 10000 --concurrency 50 --memory-log FILE]: the load proof of "nothing lost, nothing stuck".
// Posts the leads against a fresh local Handoff and fails (exit 1) if any accepted lead was lost or any
// run failed. Takes several minutes at the default size: progress goes to stderr. --memory-log appends the
// stack's memory by thread (LocalStack.memory()) to FILE every 2 s, one JSON line each.
import { parseArgs } from 'node:util';
import { printReport, runLocalLoad } from './local-load.ts';

const { values } = parseArgs({
  options: {
    leads: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '50' },
    'start-rate': { type: 'string' },
    'memory-log': { type: 'string' },
  },
});
const leads = Number(values.leads);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(leads) || leads < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  console.error(
    'Usage: npm run test:load -- [--leads N] [--concurrency C] [--start-rate R] [--memory-log FILE]',
  );
  process.exit(2);
}
console.log(`Posting ${leads} leads with ${concurrency} in flight to a fresh local Handoff …`);
const report = await runLocalLoad({
  leads,
  concurrency,
  progress: true,
  ...(values['start-rate'] ? { startRate: Number(values['start-rate']) } : {}),
  ...(values['memory-log'] ? { memoryLog: values['memory-log'] } : {}),
});
console.log('\n## Load\n');
printReport(report);
const ok = report.lost === 0 && report.failed === 0 && report.accepted === leads;
console.log(
  `\n${ok ? 'PASS' : 'FAIL'}: ${report.accepted}/${leads} accepted, ${report.lost} lost, ${report.failed} failed`,
);
process.exit(ok ? 0 : 1);
