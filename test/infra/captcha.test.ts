// forms.captcha set: the stack adds the site secret (its value set by the operator), and only SubmitLead
// gets it, with GetSecretValue on that secret alone and the provider's siteverify URL; cdk-nag stays clean.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import type { CfnTemplate } from '#local/template.ts';
import { config } from '#test/fixtures/config.ts';

describe('forms.captcha in the stack', () => {
  it('gives SubmitLead alone the site secret and the siteverify URL', () => {
    const saved = { ...process.env };
    // No bundling: the template is what is under test.
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ 'aws:cdk:bundling-stacks': [] });
    try {
      const withCaptcha = {
        ...config,
        app: {
          ...config.app,
          forms: { ...config.app.forms, captcha: { provider: 'turnstile' as const, minScore: 0.5 } },
        },
      };
      const out = mkdtempSync(join(tmpdir(), 'handoff-captcha-'));
      buildApp(withCaptcha, out).app.synth(); // throws on any unsuppressed cdk-nag finding
      const t = JSON.parse(readFileSync(join(out, 'Handoff.template.json'), 'utf8')) as CfnTemplate;
      const secrets = Object.entries(t.Resources).filter(
        ([id, r]) => r.Type === 'AWS::SecretsManager::Secret' && id.startsWith('CaptchaSecret'),
      );
      expect(secrets).toHaveLength(1);
      const [secretId] = secrets[0] ?? [];
      const withEnv = Object.entries(t.Resources).filter(
        ([, r]) =>
          r.Type === 'AWS::Lambda::Function' &&
          JSON.stringify(r.Properties?.Environment ?? {}).includes('CAPTCHA_SECRET_ARN'),
      );
      expect(withEnv.map(([id]) => id)).toEqual([expect.stringMatching(/^SubmitLead/)]);
      const env =
        (withEnv[0]?.[1].Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
          ?.Variables ?? {};
      expect(env.CAPTCHA_VERIFY_URL).toBe('https://challenges.cloudflare.com/turnstile/v0/siteverify');
      expect(env.CAPTCHA_SECRET_ARN).toEqual({ Ref: secretId });
      // Every policy naming the secret is SubmitLead's, and allows GetSecretValue only.
      const naming = Object.values(t.Resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes(`"Ref":"${secretId}"`),
      );
      expect(naming).toHaveLength(1);
      expect(JSON.stringify(naming[0]?.Properties?.Roles)).toMatch(/SubmitLead/);
      const document = naming[0]?.Properties?.PolicyDocument as
        | { Statement: { Action: unknown; Resource: unknown }[] }
        | undefined;
      const statements = (document?.Statement ?? []).filter((s) =>
        JSON.stringify(s.Resource).includes(String(secretId)),
      );
      expect(statements).toEqual([
        expect.objectContaining({ Action: 'secretsmanager:GetSecretValue', Resource: { Ref: secretId } }),
      ]);
    } finally {
      process.env = saved;
    }
  }, 120_000);
});
