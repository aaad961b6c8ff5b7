import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsJsonHandler } from './aws-json.ts';

/**
 * Secrets Manager's GetSecretValue for the template's generated secrets (the link-signing key):
 * a random value per secret, created on first start and kept in the data folder.
 */
export function secretsHandler(dataDir: string, secretArns: string[]) {
  const file = join(dataDir, 'secrets.json');
  const values: Record<string, string> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  for (const arn of secretArns) values[arn] ??= randomBytes(48).toString('base64url');
  writeFileSync(file, JSON.stringify(values, null, 2), { mode: 0o600 });
  return awsJsonHandler('secretsmanager', {
    GetSecretValue: ({ SecretId }) => {
      const id = String(SecretId ?? '');
      const arn = Object.keys(values).find((a) => a === id || a.endsWith(`:secret:${id}`));
      if (!arn)
        throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
          name: 'ResourceNotFoundException',
        });
      return {
        ARN: arn,
        Name: arn.split(':secret:')[1],
        SecretString: values[arn],
        VersionId: 'local',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 0,
      };
    },
  });
}
