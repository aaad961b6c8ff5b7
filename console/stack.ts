// What `npm run console -- --stack <name>` needs from a deployed stack: its outputs, read with the user's
// AWS credentials, and clear errors when the stack, an output or the credentials are missing.
import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

export interface StackTarget {
  stackName: string;
  region: string;
  stateMachineArn: string;
  tableName: string;
  apiUrl?: string;
}

/** The stack's outputs the console reads (infra/stack.ts). */
export const OUTPUTS = {
  stateMachineArn: 'StateMachineArn',
  tableName: 'TableName',
  apiUrl: 'ApiUrl',
} as const;

/** A problem the user can fix, said plainly (the CLI prints it and exits 1). */
export class StackError extends Error {
  override name = 'StackError';
}

/** Reads the stack's outputs; throws StackError for a missing stack, output, region or credentials. */
export async function resolveStack(cfn: CloudFormationClient, stackName: string): Promise<StackTarget> {
  let region: string;
  try {
    region = await cfn.config.region();
  } catch {
    throw new StackError(
      'No AWS region: pass --region, or set AWS_REGION (or a region in your AWS profile).',
    );
  }
  let outputs: Record<string, string>;
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (!stack) throw new StackError(`No stack named ${stackName} in ${region}.`);
    outputs = Object.fromEntries(
      (stack.Outputs ?? []).map((o) => [String(o.OutputKey), String(o.OutputValue)]),
    );
  } catch (e) {
    throw stackErrorOf(e, stackName, region);
  }
  const missing = [OUTPUTS.stateMachineArn, OUTPUTS.tableName].filter((k) => !outputs[k]);
  if (missing.length)
    throw new StackError(
      `Stack ${stackName} in ${region} has no ${missing.join(' or ')} output: deploy the current version (npx cdk deploy).`,
    );
  return {
    stackName,
    region,
    stateMachineArn: String(outputs[OUTPUTS.stateMachineArn]),
    tableName: String(outputs[OUTPUTS.tableName]),
    ...(outputs[OUTPUTS.apiUrl] ? { apiUrl: String(outputs[OUTPUTS.apiUrl]).replace(/\/+$/, '') } : {}),
  };
}

/** An AWS error as something to do about it. */
export function stackErrorOf(e: unknown, stackName: string, region: string): StackError {
  if (e instanceof StackError) return e;
  const err = e as { name?: string; message?: string };
  const name = String(err?.name ?? '');
  const message = String(err?.message ?? e);
  if (name === 'ValidationError' && /does not exist/.test(message))
    return new StackError(
      `No stack named ${stackName} in ${region}: deploy it (npx cdk deploy) or pass --region.`,
    );
  if (
    name === 'CredentialsProviderError' ||
    (/credential/i.test(message) && /could not|missing|load/i.test(message))
  )
    return new StackError(
      'No AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE (the console uses your default credential chain).',
    );
  if (['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'].includes(name))
    return new StackError(`Your AWS credentials have expired: sign in again (${message}).`);
  if (
    [
      'AccessDenied',
      'AccessDeniedException',
      'UnrecognizedClientException',
      'InvalidClientTokenId',
      'SignatureDoesNotMatch',
    ].includes(name)
  )
    return new StackError(`AWS refused your credentials (${name}): ${message}`);
  if (
    ['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN'].includes(String((e as { code?: string })?.code))
  )
    return new StackError(
      `Cannot reach AWS in ${region} (${String((e as { code?: string }).code)}): check the network.`,
    );
  return new StackError(
    `Reading stack ${stackName} in ${region} failed: ${name ? `${name}: ` : ''}${message}`,
  );
}
