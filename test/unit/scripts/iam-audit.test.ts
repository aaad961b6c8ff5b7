import { describe, expect, it } from 'vitest';
import { grantedActions, unusedGrants } from '#scripts/iam-audit.ts';

describe('npm run iam:audit', () => {
  it('lists each role’s granted actions once, Allow statements only', () => {
    expect(
      grantedActions([
        { Statement: [{ Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:GetItem'] }] },
        {
          Statement: [
            { Effect: 'Allow', Action: 'dynamodb:GetItem' },
            { Effect: 'Deny', Action: 'ses:*' },
          ],
        },
      ]),
    ).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  it('finds the grants no allowed call used, and keeps logs and X-Ray apart', () => {
    const report = unusedGrants(
      { R: ['dynamodb:GetItem', 'dynamodb:DeleteItem', 'logs:PutLogEvents', 'xray:PutTraceSegments'] },
      [
        { role: 'R', action: 'dynamodb:GetItem', resource: 't', allowed: true },
        // A denied call does not count as a use.
        { role: 'R', action: 'dynamodb:DeleteItem', resource: 't', allowed: false },
        { role: 'Other', action: 'dynamodb:DeleteItem', resource: 't', allowed: true },
      ],
    );
    expect(report).toEqual([
      {
        role: 'R',
        used: ['dynamodb:GetItem'],
        unused: ['dynamodb:DeleteItem'],
        notLocal: ['logs:PutLogEvents', 'xray:PutTraceSegments'],
      },
    ]);
  });
});
