import type { Context } from 'aws-lambda';
import { secretFrom, secretOnContext } from '../platform/secrets.ts';

/** config/app.json's `forms.captcha`: which provider's siteverify checks the form's token. */
export interface CaptchaConfig {
  provider: 'turnstile' | 'recaptcha';
  /** reCAPTCHA v3: the score (0–1) under which a form is refused; Turnstile gives none. */
  minScore: number;
}

/** Each provider's siteverify endpoint and the form field its widget fills. */
export const PROVIDERS = {
  turnstile: {
    verifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
    field: 'cf-turnstile-response',
  },
  recaptcha: { verifyUrl: 'https://www.google.com/recaptcha/api/siteverify', field: 'g-recaptcha-response' },
} as const;

/** pass: a person; fail: no token, a bad, used or expired one, or a low score; unavailable: ask again later. */
export type CaptchaAnswer = 'pass' | 'fail' | 'unavailable';

/**
 * Server-side CAPTCHA (off unless `forms.captcha` is set): the form's token goes to the provider's
 * siteverify with the site's secret and the visitor's address, as Cloudflare and Google document it (a
 * form-encoded POST; `success`, `error-codes`, and for reCAPTCHA v3 `score`). A token is single-use: a
 * replayed one fails (`timeout-or-duplicate`). A siteverify that times out or answers 5xx is `unavailable`
 * (the form is asked to send again, 503), never a pass.
 */
export function captchaVerifier(config: CaptchaConfig, verifyUrl: string, timeoutMs = 3000) {
  return {
    field: PROVIDERS[config.provider].field,
    async verify(token: unknown, remoteIp: string, secret: string): Promise<CaptchaAnswer> {
      if (typeof token !== 'string' || token.length === 0 || token.length > 2048) return 'fail';
      let res: Response;
      try {
        res = await fetch(verifyUrl, {
          method: 'POST',
          body: new URLSearchParams({ secret, response: token, remoteip: remoteIp }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch {
        return 'unavailable';
      }
      if (res.status >= 500 || res.status === 429) return 'unavailable';
      const answer = (await res.json().catch(() => ({}))) as { success?: unknown; score?: unknown };
      if (answer.success !== true) return 'fail';
      if (
        config.provider === 'recaptcha' &&
        typeof answer.score === 'number' &&
        answer.score < config.minScore
      )
        return 'fail';
      return 'pass';
    },
  };
}
export type CaptchaVerifier = ReturnType<typeof captchaVerifier>;

/** The site secret from Secrets Manager (CAPTCHA_SECRET_ARN), cached 15 minutes, put on the context. */
export const captchaSecretMiddleware = (secretArn: string) => secretOnContext('captchaSecret', secretArn);

/** The secret the middleware put on the context; an unset one fails loudly (a 500, never a pass). */
export const captchaSecretOf = (context: Context) =>
  secretFrom(context, 'captchaSecret', 8, 'CAPTCHA secret');
