// Reads what `cdk synth` produced: resolves the CloudFormation intrinsics Handoff's template uses into
// local names and ARNs, so tests and the local runtime run the synthesized app, not a copy of it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Description?: string }>;
}

/** The CDK app's one stack (infra/app.ts), as `cdk synth` names its template. */
export const STACK_NAME = 'Handoff';

export interface LocalNames {
  region: string;
  account: string;
  /** Values for specific `Ref`s or `Fn::GetAtt`s, keyed `LogicalId` or `LogicalId.Attribute`. */
  overrides?: Record<string, string>;
}

export function loadTemplate(cdkOut: string, stackName = STACK_NAME): CfnTemplate {
  return JSON.parse(readFileSync(join(cdkOut, `${stackName}.template.json`), 'utf8')) as CfnTemplate;
}

const ARN_KIND: Record<string, (id: string, n: LocalNames) => string> = {
  'AWS::Lambda::Function': (id, n) => `arn:aws:lambda:${n.region}:${n.account}:function:${id}`,
  'AWS::StepFunctions::StateMachine': (id, n) => `arn:aws:states:${n.region}:${n.account}:stateMachine:${id}`,
  'AWS::DynamoDB::Table': (id, n) => `arn:aws:dynamodb:${n.region}:${n.account}:table/${id}`,
  'AWS::SecretsManager::Secret': (id, n) => `arn:aws:secretsmanager:${n.region}:${n.account}:secret:${id}`,
  'AWS::SNS::Topic': (id, n) => `arn:aws:sns:${n.region}:${n.account}:${id}`,
  'AWS::Logs::LogGroup': (id, n) => `arn:aws:logs:${n.region}:${n.account}:log-group:${id}`,
  'AWS::Events::Rule': (id, n) => `arn:aws:events:${n.region}:${n.account}:rule/${id}`,
  'AWS::SQS::Queue': (id, n) => `arn:aws:sqs:${n.region}:${n.account}:${id}`,
  'AWS::KMS::Key': (id, n) => `arn:aws:kms:${n.region}:${n.account}:key/${id}`,
};

/** What a `Ref` gives for each resource type (name or ARN, as CloudFormation does). */
function ref(template: CfnTemplate, id: string, n: LocalNames): string {
  const pseudo: Record<string, string> = {
    'AWS::Region': n.region,
    'AWS::AccountId': n.account,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': STACK_NAME,
  };
  if (n.overrides?.[id]) return n.overrides[id];
  if (pseudo[id]) return pseudo[id];
  const resource = template.Resources[id];
  if (!resource) throw new Error(`Template has no resource ${id}`);
  if (
    resource.Type === 'AWS::SecretsManager::Secret' ||
    resource.Type === 'AWS::StepFunctions::StateMachine' ||
    resource.Type === 'AWS::SNS::Topic'
  ) {
    return ARN_KIND[resource.Type]?.(id, n) ?? id;
  }
  // An SES identity's Ref is the identity itself (the domain or address), as CloudFormation gives it.
  if (resource.Type === 'AWS::SES::EmailIdentity')
    return String(resolve(template, resource.Properties?.EmailIdentity, n) ?? id);
  return id;
}

function getAtt(template: CfnTemplate, id: string, attr: string, n: LocalNames): string {
  const override = n.overrides?.[`${id}.${attr}`];
  if (override) return override;
  const resource = template.Resources[id];
  if (!resource) throw new Error(`Template has no resource ${id}`);
  if (attr === 'Arn') {
    const arn = ARN_KIND[resource.Type];
    if (arn) return arn(id, n);
  }
  if (attr === 'Name') return id;
  // Easy DKIM's three records, shaped as SES gives them (`<token>._domainkey.<domain>` CNAME
  // `<token>.dkim.amazonses.com`), with a token fixed per identity: the local stack publishes no DNS.
  const dkim = /^DkimDNSToken(Name|Value)([123])$/.exec(attr);
  if (resource.Type === 'AWS::SES::EmailIdentity' && dkim) {
    const token = createHash('sha256').update(`${id}#${dkim[2]}`).digest('hex').slice(0, 32);
    const domain = ref(template, id, n);
    return dkim[1] === 'Name' ? `${token}._domainkey.${domain}` : `${token}.dkim.amazonses.com`;
  }
  throw new Error(`No local value for ${id}.${attr} (${resource.Type}); pass it in overrides`);
}

/** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub and Fn::Select anywhere inside `value`. */
export function resolve(template: CfnTemplate, value: unknown, n: LocalNames): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(template, v, n));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const arg = obj[k];
    if (k === 'Ref') return ref(template, String(arg), n);
    if (k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(arg) ? (arg as string[]) : String(arg).split('.');
      return getAtt(template, String(id), String(attr), n);
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(resolve(template, p, n))).join(sep);
    }
    if (k === 'Fn::Select') {
      const [index, list] = arg as [number, unknown];
      return (resolve(template, list, n) as unknown[])[Number(index)];
    }
    if (k === 'Fn::Sub') {
      const [text, vars = {}] = (Array.isArray(arg) ? arg : [arg, {}]) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        if (name in vars) return String(resolve(template, vars[name], n));
        const [id, attr] = name.split('.');
        return attr ? getAtt(template, String(id), attr, n) : ref(template, String(id), n);
      });
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolve(template, obj[k], n)]));
}

export interface LocalFunction {
  logicalId: string;
  /** The construct id, e.g. `CaptureLead` (from the aws:cdk:path metadata). */
  id: string;
  arn: string;
  /** The bundled asset folder under cdk.out. */
  assetPath: string;
  handler: string;
  /** The Lambda runtime, e.g. `nodejs24.x`. */
  runtime: string;
  timeoutSeconds: number;
  /** MemorySize in MB (Lambda's default 128 when the template leaves it out). */
  memorySize: number;
  environment: Record<string, string>;
}

export function functionsOf(template: CfnTemplate, n: LocalNames): LocalFunction[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const props = r.Properties ?? {};
      const env = ((props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
        {}) as Record<string, unknown>;
      return {
        logicalId,
        id: String(r.Metadata?.['aws:cdk:path'] ?? logicalId).split('/')[1] ?? logicalId,
        arn: getAtt(template, logicalId, 'Arn', n),
        assetPath: String(r.Metadata?.['aws:asset:path'] ?? ''),
        handler: String(props.Handler ?? 'index.handler'),
        runtime: String(props.Runtime ?? ''),
        timeoutSeconds: Number(props.Timeout ?? 3),
        memorySize: Number(props.MemorySize ?? 128),
        environment: resolve(template, env, n) as Record<string, string>,
      };
    });
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  [k: string]: unknown;
}

export function stateMachinesOf(
  template: CfnTemplate,
  n: LocalNames,
): { logicalId: string; arn: string; definition: AslDefinition }[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([logicalId, r]) => ({
      logicalId,
      arn: getAtt(template, logicalId, 'Arn', n),
      definition: JSON.parse(String(resolve(template, r.Properties?.DefinitionString, n))) as AslDefinition,
    }));
}

export interface TableSchema {
  logicalId: string;
  KeySchema: unknown[];
  AttributeDefinitions: unknown[];
  GlobalSecondaryIndexes?: unknown[];
  ttlAttribute?: string;
}

export function tablesOf(template: CfnTemplate): TableSchema[] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, r]) => {
      const p = r.Properties ?? {};
      return {
        logicalId,
        KeySchema: p.KeySchema as unknown[],
        AttributeDefinitions: p.AttributeDefinitions as unknown[],
        GlobalSecondaryIndexes: p.GlobalSecondaryIndexes as unknown[] | undefined,
        ttlAttribute: (p.TimeToLiveSpecification as { AttributeName?: string } | undefined)?.AttributeName,
      };
    });
}

/** The major version in a Node.js version (`v24.21.0`) or a Lambda runtime name (`nodejs24.x`). */
export function majorOf(version: string): number {
  return Number(/(\d+)/.exec(version)?.[1] ?? Number.NaN);
}
