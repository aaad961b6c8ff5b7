import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from './env.ts';

const client = new SecretsManagerClient({});
const secretArn = requireEnv('LINK_SECRET_ARN');
let cached: Promise<string> | undefined;

/** The HMAC key for signed links, fetched once per cold start. */
export function linkSigningKey(): Promise<string> {
  cached ??= client.send(new GetSecretValueCommand({ SecretId: secretArn })).then((r) => {
    if (!r.SecretString || r.SecretString.length < 32)
      throw new Error('Link signing secret is missing or too short');
    return r.SecretString;
  });
  cached.catch(() => {
    cached = undefined;
  });
  return cached;
}
