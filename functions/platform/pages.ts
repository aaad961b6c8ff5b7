// The small, self-contained HTML pages people see at the edge: confirmation pages behind signed links,
// and a form post's errors for a browser without JavaScript. The content security policy lives here, with
// the template it describes (inline styles, one form posting back to the same origin, no scripts).

import type {
  APIGatewayProxyEventV2 as HttpEvent,
  APIGatewayProxyStructuredResultV2 as HttpResult,
} from 'aws-lambda';
import { ValidationError } from './errors.ts';
import { escapeHtml } from './html.ts';

const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

/** A small, self-contained HTML page. `bodyHtml` must already be escaped. */
export function page(statusCode: number, title: string, bodyHtml: string): HttpResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'cache-control': 'no-store',
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)} · Handoff</title><style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;border:0;background:#0b5fff;color:#fff;cursor:pointer}label{display:block;margin:.8rem 0 .3rem}input,select{font-size:1rem;padding:.4rem;width:100%}</style></head><body><h1>${escapeHtml(title)}</h1>${bodyHtml}</body></html>`,
  };
}

/** The Referer as a link back to the form, when it is an http(s) URL; escaped for an attribute. */
function backLink(event: Pick<HttpEvent, 'headers'>): string {
  const referer = event.headers.referer ?? '';
  let url: URL | undefined;
  try {
    url = new URL(referer);
  } catch {
    url = undefined;
  }
  const back = url && (url.protocol === 'https:' || url.protocol === 'http:') ? url.href : undefined;
  return back
    ? `<p><a href="${escapeHtml(back)}">Back to the form</a></p>`
    : '<p>Use your browser’s Back button to return to the form.</p>';
}

/** A form post's error as a page: each field error (ValidationError), else the message, and a way back. */
export function formErrorPage(status: number, error: Error, event: Pick<HttpEvent, 'headers'>): HttpResult {
  const fields = error instanceof ValidationError ? Object.entries(error.fieldErrors) : [];
  const detail = fields.length
    ? `<p>Please correct the following and send the form again:</p><ul>${fields
        .flatMap(([field, messages]) =>
          messages.map((m) => `<li><b>${escapeHtml(field)}</b> ${escapeHtml(m)}</li>`),
        )
        .join('')}</ul>`
    : `<p>${escapeHtml(error.message)}</p>`;
  return page(
    status,
    status === 400 ? 'Please check the form' : 'The form could not be sent',
    `${detail}${backLink(event)}`,
  );
}
