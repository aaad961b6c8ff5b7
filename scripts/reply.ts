// npm run reply -- --to <lead email> [--text "…"] [--out-of-office [--back YYYY-MM-DD]] [--data <folder>] [--api <url>]
// Answers the newest nurture email the local mailbox holds for a lead, as the lead would: the reply goes to
// that email's Reply-To and travels the path a reply takes in AWS (SES receiving's rule, SNS, InboundReply),
// so a person's reply wakes the run and reaches a rep, and an out-of-office is recorded and changes nothing.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Mailbox, replyToOf } from '../local/mailbox.ts';
import { INBOUND_PATH, replyMime } from '../local/ses-receiving.ts';
import { locateWithClock } from '../serve/stack-file.ts';

const USAGE = `Usage: npm run reply -- --to <lead email> [--text "…"] [--out-of-office [--back YYYY-MM-DD]]
                       [--data <folder>] [--api <url>]
  --to EMAIL         the lead: the newest nurture email to it is answered
  --text TEXT        the reply (default: a short request to be called)
  --out-of-office    an automatic out-of-office (Auto-Submitted: auto-replied), back on --back
  --data FOLDER      the data folder of the \`npm start\` to use (default .handoff)
  --api URL          a stack started elsewhere`;

let o: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      to: { type: 'string' },
      text: { type: 'string' },
      'out-of-office': { type: 'boolean', default: false },
      back: { type: 'string' },
      data: { type: 'string', default: '.handoff' },
      api: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
}
try {
  o = parse();
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const to = o.to?.trim().toLowerCase();
if (!to) {
  console.error(`--to is required\n${USAGE}`);
  process.exit(2);
}
if (o.back !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(o.back)) {
  console.error(`--back must be a day as YYYY-MM-DD, not ${JSON.stringify(o.back)}`);
  process.exit(2);
}

const located = await locateWithClock({
  ...(o.api ? { api: o.api } : {}),
  dataDir: resolve(o.data ?? '.handoff'),
});
let mails: Awaited<ReturnType<Mailbox['list']>>;
try {
  mails = await new Mailbox(located.urls.ses).list();
} catch (e) {
  console.error(
    `No local stack answers at ${located.urls.ses} (${(e as Error).message}): start one with npm start.`,
  );
  process.exit(3);
}
const email = mails
  .filter((m) => m.destination.to.some((d) => d.toLowerCase().includes(to)) && replyToOf(m))
  .at(-1);
if (!email) {
  console.error(`The mailbox holds no nurture email to ${to} (one with a Reply-To): nothing to answer.`);
  process.exit(1);
}
const replyTo = String(replyToOf(email));
const back = o.back ?? new Date(located.now.getTime() + 7 * 86_400_000).toISOString().slice(0, 10);
const text = o['out-of-office']
  ? `I am out of the office with limited access to email. I will be back on ${back}.`
  : (o.text ?? 'Thanks, this is relevant for us right now. Could someone call me this week?');
const raw = replyMime({
  from: to,
  to: replyTo,
  subject: email.subject,
  text,
  ...(o['out-of-office'] ? { headers: { 'Auto-Submitted': 'auto-replied', 'X-Autoreply': 'yes' } } : {}),
  now: located.now,
});
const res = await fetch(new URL(INBOUND_PATH, located.urls.ses), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ raw, recipients: [replyTo] }),
});
const answer = (await res.json()) as {
  delivered?: number;
  results?: { result?: unknown; errorMessage?: string }[];
  error?: string;
};
if (!res.ok || !answer.delivered) {
  console.error(`Not delivered: ${answer.error ?? JSON.stringify(answer.results ?? answer)}`);
  process.exit(1);
}
console.log(
  `Replied to "${email.subject}" as ${to}${o['out-of-office'] ? ' (out of office)' : ''}: ${JSON.stringify(answer.results?.[0]?.result ?? {})}`,
);
