// A first deploy's manual work comes from the stack's outputs (docs/deploy.md): the sender domain and the
// three DKIM records to publish, each as one line `NAME CNAME VALUE`.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { type CfnTemplate, loadTemplate, resolve } from '#local/template.ts';

let raw: CfnTemplate;
beforeAll(() => {
  raw = loadTemplate(inject('cdkOut'));
});

describe('deploy outputs', () => {
  it('print the sender domain’s three DKIM records from its SES identity', () => {
    const outputs = (raw as { Outputs?: Record<string, { Value: unknown }> }).Outputs ?? {};
    const [identity] =
      Object.entries(raw.Resources).find(([, r]) => r.Type === 'AWS::SES::EmailIdentity') ?? [];
    if (!identity) throw new Error('no SES identity');
    for (const i of [1, 2, 3])
      expect(outputs[`SenderDkimRecord${i}`]?.Value).toEqual({
        'Fn::Join': [
          ' ',
          [
            { 'Fn::GetAtt': [identity, `DkimDNSTokenName${i}`] },
            'CNAME',
            { 'Fn::GetAtt': [identity, `DkimDNSTokenValue${i}`] },
          ],
        ],
      });
    // Locally they resolve to records shaped as SES's.
    const line = String(
      resolve(raw, outputs.SenderDkimRecord1?.Value, { region: 'us-east-1', account: '000000000000' }),
    );
    expect(line).toMatch(
      /^[0-9a-f]{32}\._domainkey\.handoff\.example CNAME [0-9a-f]{32}\.dkim\.amazonses\.com$/,
    );
  });
});
