import { resolve } from 'node:path';
import { ArnFormat, type CfnElement, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import { type IRole, Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { HandoffTable, Index, TableAction } from './data.ts';
import type { HandoffMail } from './mail.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every function's Lambda runtime; `npm start` refuses to run the functions on another Node.js major. */
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export interface HandoffFunctionProps {
  /** Path under `functions/`, e.g. `steps/capture.ts`. */
  entry: string;
  description: string;
  timeout?: Duration;
  memorySize?: number;
}

/**
 * One Lambda function with Handoff's defaults: ARM64, Node.js 24, minified ESM bundle with class names
 * kept, source maps, X-Ray, JSON logs in a log group with retention. The AWS SDK v3 is bundled, at the
 * version package.json pins: one file imports faster than the runtime's SDK spread over hundreds of
 * modules (measured by `npm run bench`, docs/performance.md), and what runs in AWS is what the tests ran.
 * What it may touch is added with the `use…` methods, each setting the environment variable the code
 * reads and the grant that goes with it, so neither exists without the other.
 */
export class HandoffFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HandoffFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: logs to this function's group only.
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    super(scope, id, {
      role,
      entry: resolve(ROOT, 'functions', props.entry),
      handler: 'handler',
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      projectRoot: ROOT,
      depsLockFilePath: resolve(ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'handoff',
        POWERTOOLS_METRICS_NAMESPACE: 'Handoff',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        // Error names are what Retry/Catch match and what run histories show (not "wh").
        keepNames: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        mainFields: ['module', 'main'],
        // Nothing left to the runtime: the AWS SDK is bundled at the pinned version (see above).
        externalModules: [],
        metafile: true,
        logLevel: LogLevel.ERROR,
        // Some CommonJS dependencies call require(); give the ESM bundle one.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) has no resource-level permissions.',
    });
  }

  /** TABLE_NAME, and exactly these item actions on the table (Query on the named indexes too). */
  useTable(data: HandoffTable, actions: TableAction[], indexes: Index[] = []): this {
    this.addEnvironment('TABLE_NAME', data.table.tableName);
    data.grant(this, actions, indexes);
    return this;
  }

  /**
   * FORM_ALLOWED_ORIGINS (space-separated) and FORM_THANK_YOU_URL, from config/app.json's `forms`: the
   * sites whose forms may post leads, and where a plain form post goes next. They name where this
   * deployment's pages are, so they live in the environment, as the API's URL does, and not only in the
   * bundled config: the local runtime points their loopback URLs at the ports it really listens on
   * (local/site.ts), with no branch in the handler. No grant goes with them.
   */
  useForms(forms: { allowedOrigins: readonly string[]; thankYouUrl: string }): this {
    this.addEnvironment('FORM_ALLOWED_ORIGINS', forms.allowedOrigins.join(' '));
    this.addEnvironment('FORM_THANK_YOU_URL', forms.thankYouUrl);
    return this;
  }

  /**
   * LINK_SECRET_ARN and GetSecretValue on it: the function verifies signed links. Only GetSecretValue, which
   * is all @middy/secrets-manager calls (grantRead would add DescribeSecret, which `npm run iam:audit` found
   * no call using); the secret is encrypted with the AWS-managed key, so no kms:Decrypt grant is needed.
   */
  useLinkKey(secret: ISecret): this {
    this.addEnvironment('LINK_SECRET_ARN', secret.secretArn);
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    return this;
  }

  /**
   * CAPTCHA_SECRET_ARN (the site secret, GetSecretValue only, as for the link key) and CAPTCHA_VERIFY_URL
   * (the provider's siteverify): the function checks the form's CAPTCHA token (config/app.json's
   * `forms.captcha`).
   */
  useCaptcha(secret: ISecret, verifyUrl: string): this {
    this.addEnvironment('CAPTCHA_VERIFY_URL', verifyUrl);
    this.addEnvironment('CAPTCHA_SECRET_ARN', secret.secretArn);
    this.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }),
    );
    return this;
  }

  /** The link key plus PUBLIC_BASE_URL: the function builds signed links into emails. */
  useLinks(secret: ISecret, publicBaseUrl: string): this {
    this.addEnvironment('PUBLIC_BASE_URL', publicBaseUrl);
    return this.useLinkKey(secret);
  }

  /** SES_CONFIGURATION_SET and ses:SendRawEmail, only as the configured sender. */
  useMail(mail: HandoffMail): this {
    this.addEnvironment('SES_CONFIGURATION_SET', mail.configurationSet.configurationSetName);
    mail.allowSending(this);
    return this;
  }

  /**
   * ses:GetSendQuota: the function paces its sends by the account's quota (functions/mail/send-budget.ts).
   * The action has no resource-level permissions, so its resource is `*` (acknowledged for cdk-nag below).
   */
  readsSendQuota(): this {
    this.addToRolePolicy(new PolicyStatement({ actions: ['ses:GetSendQuota'], resources: ['*'] }));
    Validations.of(this.role as IRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and ses:GetSendQuota have no resource-level permissions.',
    });
    return this;
  }

  /** STATE_MACHINE_ARN and states:StartExecution on it. */
  startsRunsOf(stateMachine: StateMachine): this {
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(this);
    return this;
  }

  /** states:StopExecution on the machine's runs (erase stops the lead's run) and SendTaskFailure (wakes a waiter). */
  stopsRunsOf(stateMachine: StateMachine): this {
    const policy = this.onExecutionsOf(
      stateMachine,
      'StopsRuns',
      'states:StopExecution',
      'StopExecution names an execution of this one state machine; execution names are not known in advance.',
    );
    policy.addStatements(
      new PolicyStatement({ actions: ['states:SendTaskFailure'], resources: [stateMachine.stateMachineArn] }),
    );
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    return this;
  }

  /**
   * STATE_MACHINE_ARN and states:DescribeExecution on the machine's runs: reconcile compares each active
   * lead and open deal with its run's status.
   */
  describesRunsOf(stateMachine: StateMachine): this {
    this.onExecutionsOf(
      stateMachine,
      'DescribesRuns',
      'states:DescribeExecution',
      'DescribeExecution names an execution of this one state machine; which runs reconcile looks at is known only from the table.',
    );
    this.addEnvironment('STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    return this;
  }

  /**
   * A standalone policy allowing `action` on any execution of `stateMachine` (`<machine>:*`), with its
   * cdk-nag IAM5 acknowledgement named as the template has the resource: a pseudo parameter, or the value of
   * an environment the stack was given (the CDK CLI resolves a default region, the tests do not).
   */
  private onExecutionsOf(stateMachine: StateMachine, id: string, action: string, reason: string): Policy {
    const policy = new Policy(this, id, {
      roles: [this.role as IRole],
      statements: [
        new PolicyStatement({
          actions: [action],
          resources: [
            stateMachine.stack.formatArn({
              service: 'states',
              resource: 'execution',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
              resourceName: `${stateMachine.stateMachineName}:*`,
            }),
          ],
        }),
      ],
    });
    const { region, account } = stateMachine.stack;
    const pseudo = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${pseudo(region, 'Region')}:${pseudo(account, 'AccountId')}:execution:<${stateMachine.stack.getLogicalId(stateMachine.node.defaultChild as CfnElement)}.Name>:*]`,
      reason,
    });
    return policy;
  }

  /**
   * Task-token callbacks on the machine's runs (the token names the run; no environment needed), or
   * StartExecution for the step that continues a run as a new execution (the machine's ARN comes in its
   * payload). A standalone policy, not the role's default one: the machine invokes its steps, so a step's
   * default policy naming the machine would make function → machine → function a dependency cycle.
   */
  resumesRunsOf(
    stateMachine: StateMachine,
    actions: ('SendTaskSuccess' | 'SendTaskFailure' | 'StartExecution')[] = ['SendTaskSuccess'],
  ): this {
    new Policy(this, 'ResumesRuns', {
      roles: [this.role as IRole],
      statements: [
        new PolicyStatement({
          actions: actions.map((a) => `states:${a}`),
          resources: [stateMachine.stateMachineArn],
        }),
      ],
    });
    return this;
  }
}
