// IAM in the local stack, always on (docs/local-fidelity.md). Each function's AWS calls reach the emulators
// signed with an access key id that names its role session (accessKeyIdOf: the runtime gives each worker its
// own, as Lambda gives each function its role's credentials), and each call is checked against that role's
// policies in the synthesized template, evaluated by @cloud-copilot/iam-simulate with AWS's action, resource
// and condition-key data. The state machine's invocations are checked against its role the same way. A key
// the stack did not hand out is an operator's (the AWS CLI, the console, scripts): allowed everything, as an
// admin would be. A denied call gets what AWS answers for AccessDeniedException (local/iam-requests.ts).
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { type CfnTemplate, type LocalNames, resolve } from './template.ts';

type Statement = { Effect: string; Action?: string | string[]; Resource?: string | string[] } & Record<
  string,
  unknown
>;
export interface PolicyDocument {
  Version?: string;
  Statement: Statement[];
}
export interface IamRole {
  arn: string;
  policies: PolicyDocument[];
}
/** What IAM knows of a stack: plain data, so the DynamoDB thread can be given it. */
export interface IamModel {
  region: string;
  account: string;
  /** Roles by logical id. */
  roles: Record<string, IamRole>;
  /** The role and session name each access key the stack hands out signs as. */
  keys: Record<string, { role: string; session: string }>;
  /** The role each state machine runs as, by state machine name. */
  machines: Record<string, string>;
  /** Each function's resource policy: its AWS::Lambda::Permissions (who may invoke it, from where). */
  functionPolicies: Record<string, PolicyDocument>;
}
/** One authorization: an action on one or more resources (all must be allowed), with condition keys. */
export interface IamRequest {
  action: string;
  resources: string[];
  context?: Record<string, string | string[]>;
}

/** Answers a request IAM denies (true), or leaves it to the caller (false); local/iam-requests.ts makes them. */
export type BodyCheck = (req: IncomingMessage, body: string, res: ServerResponse) => Promise<boolean>;

/** The access key id a function's worker signs with: `ASIA…` like a role session's, unique per function. */
export function accessKeyIdOf(functionLogicalId: string): string {
  const digest = createHash('sha256').update(functionLogicalId).digest('hex').slice(0, 16).toUpperCase();
  return `ASIA${digest}`;
}

/** The access key id in a SigV4 `Authorization` header, if any. */
export function accessKeyOf(authorization: string | string[] | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(String(authorization ?? ''))?.[1];
}

const roleIdOf = (value: unknown): string | undefined => {
  const att = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  return Array.isArray(att) ? String(att[0]) : undefined;
};

/** The template's roles with their policies resolved to local ARNs, and who runs as which role. */
export function iamModelOf(template: CfnTemplate, names: LocalNames): IamModel {
  const policy = (doc: unknown) => resolve(template, doc, names) as PolicyDocument;
  const roles: IamModel['roles'] = {};
  const keys: IamModel['keys'] = {};
  const machines: IamModel['machines'] = {};
  const resources = Object.entries(template.Resources);
  for (const [id, r] of resources) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const inline = (r.Properties?.Policies as { PolicyDocument: unknown }[] | undefined) ?? [];
    // AWS-managed policies (ManagedPolicyArns) are not in the template, so they grant nothing here: a stack
    // that needs one would be denied locally, and the difference is listed in docs/local-fidelity.md.
    roles[id] = {
      arn: `arn:aws:iam::${names.account}:role/${id}`,
      policies: inline.map((p) => policy(p.PolicyDocument)),
    };
  }
  for (const [, r] of resources) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const attached = (r.Properties?.Roles as { Ref?: string }[] | undefined) ?? [];
    for (const { Ref } of attached)
      if (Ref && roles[Ref]) roles[Ref].policies.push(policy(r.Properties?.PolicyDocument));
  }
  for (const [id, r] of resources) {
    const role = roleIdOf(r.Type === 'AWS::Lambda::Function' ? r.Properties?.Role : r.Properties?.RoleArn);
    if (!role) continue;
    if (r.Type === 'AWS::Lambda::Function') keys[accessKeyIdOf(id)] = { role, session: id };
    if (r.Type === 'AWS::StepFunctions::StateMachine') machines[id] = role;
  }
  const functionPolicies: IamModel['functionPolicies'] = {};
  for (const [, r] of resources) {
    if (r.Type !== 'AWS::Lambda::Permission') continue;
    const p = resolve(template, r.Properties ?? {}, names) as Record<string, string | undefined>;
    const fn = String(p.FunctionName);
    functionPolicies[fn] ??= { Version: '2012-10-17', Statement: [] };
    const doc = functionPolicies[fn];
    doc.Statement.push({
      Effect: 'Allow',
      Principal: p.Principal?.includes('.') ? { Service: p.Principal } : { AWS: p.Principal },
      Action: p.Action ?? 'lambda:InvokeFunction',
      Resource: fn,
      ...(p.SourceArn ? { Condition: { ArnLike: { 'AWS:SourceArn': p.SourceArn } } } : {}),
    });
  }
  return { region: names.region, account: names.account, roles, keys, machines, functionPolicies };
}

/**
 * Step Functions' callbacks have no resource type in AWS's authorization reference (so the simulator wants
 * `*`), yet AWS authorizes them against the state machine of the token's execution: a grant on that state
 * machine's ARN works, and a denial names it. For these, a statement's resource that matches the request's
 * is read as `*`, and the request is simulated on `*`.
 */
const SCOPED_TO_TOKEN = /^states:SendTask(Success|Failure|Heartbeat)$/;

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

function scopedToToken(policies: PolicyDocument[], resource: string): PolicyDocument[] {
  return policies.map((p) => ({
    ...p,
    Statement: [p.Statement].flat().map((s) => {
      const listed = s.Resource === undefined ? undefined : [s.Resource].flat();
      return listed ? { ...s, Resource: listed.map((r) => (glob(r).test(resource) ? '*' : r)) } : s;
    }),
  }));
}

/** One authorization decision, for the audit. */
export interface IamDecision {
  role: string;
  action: string;
  resource: string;
  allowed: boolean;
}

const auditFile = (file: string | undefined) =>
  file ? (d: IamDecision) => appendFileSync(file, `${JSON.stringify(d)}\n`) : undefined;

/** Who hears of IamEnforcer's decisions. */
export interface EnforcerOptions {
  /** Each denied call (the stack's log: a missing grant should be seen, not guessed from a failed run). */
  log?: (line: string) => void;
  /**
   * Every decision of a role, the first time per action and resource: `npm run iam:audit` collects them over
   * the local-stack tests to find grants no call used. By default HANDOFF_IAM_AUDIT names a file to append
   * them to, one JSON line each.
   */
  audit?: (d: IamDecision) => void;
}

export class IamEnforcer {
  private readonly decisions = new Map<string, Promise<string | undefined>>();
  private readonly log: ((line: string) => void) | undefined;
  private readonly audit: ((d: IamDecision) => void) | undefined;

  constructor(
    readonly model: IamModel,
    opts: EnforcerOptions = {},
  ) {
    this.log = opts.log;
    this.audit = opts.audit ?? auditFile(process.env.HANDOFF_IAM_AUDIT);
  }

  /** Whether `accessKeyId` is one the stack handed to a function (else it is an operator's). */
  isFunctionKey(accessKeyId: string | undefined): boolean {
    return accessKeyId !== undefined && accessKeyId in this.model.keys;
  }

  /** Why the call signed with `accessKeyId` is denied, or undefined when it is allowed. */
  async denial(accessKeyId: string | undefined, requests: IamRequest[]): Promise<string | undefined> {
    const key = accessKeyId ? this.model.keys[accessKeyId] : undefined;
    if (!key) return undefined;
    return this.said(await this.denialFor(key.role, key.session, requests));
  }

  /** Why the state machine named `machine` may not make these calls, or undefined when it may. */
  async machineDenial(machine: string, requests: IamRequest[]): Promise<string | undefined> {
    const role = this.model.machines[machine];
    if (!role) return this.said(`State machine ${machine} has no role in the template`);
    return this.said(await this.denialFor(role, machine, requests));
  }

  /**
   * Why `service` (events.amazonaws.com, apigateway.amazonaws.com) may not invoke `functionArn` on behalf of
   * `sourceArn` (a rule, an API route): the function's resource policy decides, as in AWS.
   */
  async serviceDenial(service: string, functionArn: string, sourceArn: string): Promise<string | undefined> {
    const denied = await this.cached(
      JSON.stringify(['service', service, functionArn, sourceArn]),
      async () => {
        const r = await runSimulation(
          {
            identityPolicies: [],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
            resourcePolicy: this.model.functionPolicies[functionArn] ?? {
              Version: '2012-10-17',
              Statement: [],
            },
            request: {
              action: 'lambda:InvokeFunction',
              principal: service,
              resource: { accountId: this.model.account, resource: functionArn },
              contextVariables: { 'aws:SourceArn': sourceArn, 'aws:SourceAccount': this.model.account },
            },
          },
          {},
        );
        return r.resultType !== 'error' && r.overallResult === 'Allowed'
          ? undefined
          : `${service} is not authorized to perform: lambda:InvokeFunction on resource: ${functionArn} for ${sourceArn}: no resource-based policy (AWS::Lambda::Permission) allows it`;
      },
    );
    return this.said(denied);
  }

  /** The decision made once for `id` (each is pure: the model does not change while the stack runs). */
  private cached(id: string, decide: () => Promise<string | undefined>): Promise<string | undefined> {
    let decision = this.decisions.get(id);
    if (!decision) {
      decision = decide();
      this.decisions.set(id, decision);
    }
    return decision;
  }

  /** `denied`, after telling the log. */
  private said(denied: string | undefined): string | undefined {
    if (denied) this.log?.(`iam: AccessDenied: ${denied}`);
    return denied;
  }

  private async denialFor(
    role: string,
    session: string,
    requests: IamRequest[],
  ): Promise<string | undefined> {
    for (const r of requests) {
      for (const resource of r.resources) {
        const context = r.context ?? {};
        const denied = await this.cached(JSON.stringify([role, r.action, resource, context]), async () => {
          const d = await this.simulate(role, session, r.action, resource, context);
          this.audit?.({ role, action: r.action, resource, allowed: !d });
          return d;
        });
        if (denied) return denied;
      }
    }
    return undefined;
  }

  private async simulate(
    roleId: string,
    session: string,
    action: string,
    resource: string,
    context: Record<string, string | string[]>,
  ): Promise<string | undefined> {
    const role = this.model.roles[roleId];
    const principal = `arn:aws:sts::${this.model.account}:assumed-role/${roleId}/${session}`;
    const scoped = SCOPED_TO_TOKEN.test(action) && resource !== '*';
    const policies = role ? (scoped ? scopedToToken(role.policies, resource) : role.policies) : [];
    const result = await runSimulation(
      {
        identityPolicies: policies.map((policy, i) => ({ name: `${roleId}-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        request: {
          action,
          principal: role?.arn ?? principal,
          resource: { accountId: this.model.account, resource: scoped ? '*' : resource },
          contextVariables: context,
        },
      },
      {},
    );
    if (result.resultType === 'error')
      return `IAM could not evaluate ${action} on ${resource}: ${JSON.stringify(result.errors)}`;
    if (result.overallResult === 'Allowed') return undefined;
    const why =
      result.overallResult === 'ExplicitlyDenied'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${action} action`;
    return `User: ${principal} is not authorized to perform: ${action} on resource: ${resource} ${why}`;
  }
}
