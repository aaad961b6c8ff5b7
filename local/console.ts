import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml } from '../functions/shared/mail.ts';
import type { Faults } from './faults.ts';
import type { LocalStepFunctions } from './sfn/api.ts';

/** What the Step Functions port serves besides the API: the fault switch and the console page. */
export function consoleFallback(sfn: LocalStepFunctions, faults: Faults) {
  return (req: IncomingMessage, res: ServerResponse): void | Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/_local/faults') return faults.handle(req, res);
    return consolePage(req, res, sfn);
  };
}

/** A placeholder console until the console issue lands: the executions, newest first, with their path. */
export function consolePage(req: IncomingMessage, res: ServerResponse, sfn: LocalStepFunctions): void {
  if (req.method !== 'GET' || (req.url ?? '/') !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    return;
  }
  const rows = sfn
    .list()
    .sort((a, b) => b.startDate - a.startDate)
    .slice(0, 200)
    .map((r) => {
      const states = r.events
        .filter((e) => e.type.endsWith('StateEntered'))
        .map((e) => (e.stateEnteredEventDetails as { name: string }).name);
      return `<tr><td><code>${escapeHtml(r.name)}</code></td><td class="${r.status}">${r.status}</td><td>${new Date(r.startDate).toISOString()}</td><td>${escapeHtml(states.at(-1) ?? '')}</td><td>${states.length}</td></tr>`;
    })
    .join('');
  res
    .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
    .end(
      `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Handoff local console</title><style>body{font-family:system-ui;margin:2rem}td,th{padding:.3rem .6rem;text-align:left}.SUCCEEDED{color:#080}.FAILED,.ABORTED,.TIMED_OUT{color:#b00}.RUNNING{color:#06c}</style><h1>Handoff executions</h1><p>A placeholder console: executions by lead id, refreshed every 5 s. The full console is a later issue; meanwhile use the AWS CLI with <code>AWS_ENDPOINT_URL_SFN</code>.</p><table><tr><th>Execution (lead id)</th><th>Status</th><th>Started</th><th>Current / last state</th><th>States</th></tr>${rows}</table>`,
    );
}
