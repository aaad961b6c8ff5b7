import { CfnOutput, type CfnResource, Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, type HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The routes that are public by design, each with why (cdk-nag's AwsSolutions-APIG4 is acknowledged for
 * these paths only): any other route without IAM, e.g. a new /admin route, fails synthesis.
 */
export const PUBLIC_ROUTES: Readonly<Record<string, string>> = {
  '/leads': 'Web forms post leads from visitors’ browsers (origin-checked, validated, rate-limited).',
  '/deals/action': 'Rep links emailed to reps: HMAC-signed, expiring tokens verified in the handler.',
  '/unsubscribe': 'Unsubscribe links (RFC 8058 one-click): HMAC-signed tokens verified in the handler.',
  '/confirm': 'Double opt-in confirmation links: HMAC-signed, expiring tokens verified in the handler.',
  '/c': 'Tracked clicks in emails: HMAC-signed tokens verified in the handler.',
  '/events':
    'Page views from the company site after consent: origin-checked, HMAC-signed visitor ids verified in the handler, rate-limited.',
};

/** A route's throttle: API Gateway's token bucket for it (config/app.json's `api`). */
export interface RouteBudget {
  ratePerSecond: number;
  burst: number;
}

/** Which budget a route draws on: forms, emailed links (rep actions, unsubscribe, clicks), admin or site events. */
export type BudgetName = 'forms' | 'links' | 'admin' | 'events';

/**
 * The HTTP API: web forms, emailed links and admin routes, with access logs that hold no tokens or bodies.
 * Every route gets its own throttle from its budget (a stage's RouteSettings): API Gateway keeps a token
 * bucket per route, so a flood on POST /leads never takes the tokens of GET /unsubscribe.
 */
export class HandoffApi extends Construct {
  readonly api: HttpApi;
  private readonly stage: CfnStage;
  private readonly routeSettings: Record<
    string,
    { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
  > = {};

  constructor(
    scope: Construct,
    id: string,
    private readonly budgets: Record<BudgetName, RouteBudget>,
  ) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.api = new HttpApi(this, 'Api', {
      description: 'Handoff web forms, rep links, unsubscribe and admin reads',
    });
    const stage = this.api.defaultStage?.node.defaultChild as CfnStage;
    this.stage = stage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      // No query strings (signed tokens) and no bodies (PII) in access logs.
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        route: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
      }),
    };
    // Any route without its own settings (none today) gets the smallest budget.
    stage.defaultRouteSettings = {
      throttlingBurstLimit: budgets.admin.burst,
      throttlingRateLimit: budgets.admin.ratePerSecond,
    };
    stage.routeSettings = this.routeSettings;
  }

  get url(): string {
    return this.api.apiEndpoint;
  }

  /**
   * Routes `methods path` to `target`, each method throttled by `budget`; `iam`: callers must sign with
   * SigV4 (admin routes).
   */
  route(
    path: string,
    methods: HttpMethod[],
    target: IFunction,
    { iam = false, budget }: { iam?: boolean; budget: BudgetName },
  ): void {
    const routes = this.api.addRoutes({
      path,
      methods,
      integration: new HttpLambdaIntegration(`${target.node.id}Integration`, target),
      ...(iam ? { authorizer: new HttpIamAuthorizer() } : {}),
    });
    const { ratePerSecond, burst } = this.budgets[budget];
    for (const method of methods)
      this.routeSettings[`${method} ${path}`] = {
        ThrottlingRateLimit: ratePerSecond,
        ThrottlingBurstLimit: burst,
      };
    // CloudFormation refuses RouteSettings that name a route not yet created: the stage waits for them.
    for (const r of routes) this.stage.addResourceDependency(r.node.defaultChild as CfnResource);
    const publicBecause = PUBLIC_ROUTES[path];
    if (iam || !publicBecause) return;
    for (const r of routes)
      Validations.of(r).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicBecause });
  }
}

/**
 * The CAPTCHA provider's site secret for POST /leads, when forms are configured with one: set by the operator
 * after the deploy (docs/deploy.md); until then it holds a random value and every form fails the check.
 */
export function captchaSecret(scope: Construct, provider: string): Secret {
  const secret = new Secret(scope, 'CaptchaSecret', {
    description: `The ${provider} site secret for POST /leads (set it after the deploy)`,
    generateSecretString: { passwordLength: 40, excludePunctuation: true },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'A CAPTCHA site secret is issued by the provider and rotated in its dashboard, then put here by hand.',
  });
  new CfnOutput(scope, 'CaptchaSecretArn', { value: secret.secretArn });
  return secret;
}
