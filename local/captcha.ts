// A stand-in for Turnstile's and reCAPTCHA's siteverify, for tests and the local stack (no internet): the
// same request (form-encoded secret, response, remoteip) and answer (`success`, `error-codes`, `score`).
// Tokens are ones it issued, each good once and for five minutes, as the real services' are; Cloudflare's
// documented test secrets behave as documented (1x… always passes, 2x… always fails, 3x… says the token
// was already used).
import { randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';

const ALWAYS_PASSES = '1x0000000000000000000000000000000AA';
const ALWAYS_FAILS = '2x0000000000000000000000000000000AA';
const ALWAYS_DUPLICATE = '3x0000000000000000000000000000000AA';
const TOKEN_SECONDS = 300;

export function captchaStandIn(secret: string, now: () => number = Date.now) {
  const issued = new Map<string, { at: number; score: number }>();
  let requests = 0;
  const handler: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const answer = (body: Record<string, unknown>) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      const fail = (...codes: string[]) => answer({ success: false, 'error-codes': codes });
      const given = form.get('secret') ?? '';
      const token = form.get('response') ?? '';
      if (req.method !== 'POST') return fail('bad-request');
      if (given === ALWAYS_PASSES) return answer({ success: true, 'error-codes': [] });
      if (given === ALWAYS_FAILS) return fail('invalid-input-response');
      if (given === ALWAYS_DUPLICATE) return fail('timeout-or-duplicate');
      if (!given) return fail('missing-input-secret');
      if (given !== secret) return fail('invalid-input-secret');
      if (!token) return fail('missing-input-response');
      const t = issued.get(token);
      if (!t) return fail('invalid-input-response');
      issued.delete(token);
      if (now() - t.at > TOKEN_SECONDS * 1000) return fail('timeout-or-duplicate');
      return answer({ success: true, score: t.score, 'error-codes': [] });
    });
  };
  return {
    handler,
    /** A token as the widget would give a visitor (reCAPTCHA v3's score: 0.9 unless given). */
    issue(score = 0.9): string {
      const token = randomBytes(24).toString('base64url');
      issued.set(token, { at: now(), score });
      return token;
    },
    /** How many siteverify calls it has answered. */
    get requests() {
      return requests;
    },
  };
}
