import { Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, type HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The routes that are public by design, each with why (cdk-nag's AwsSolutions-APIG4 is acknowledged for
 * these paths only): any other route without IAM, e.g. a new /admin route, fails synthesis.
 */
export const PUBLIC_ROUTES: Readonly<Record<string, string>> = {
  '/leads': 'Web forms post leads from visitors’ browsers (origin-checked, validated, rate-limited).',
  '/deals/action': 'Rep links emailed to reps: HMAC-signed, expiring tokens verified in the handler.',
  '/unsubscribe': 'Unsubscribe links (RFC 8058 one-click): HMAC-signed tokens verified in the handler.',
  '/c': 'Tracked clicks in emails: HMAC-signed tokens verified in the handler.',
};

/** The HTTP API: web forms, emailed links and admin routes, with access logs that hold no tokens or bodies. */
export class HandoffApi extends Construct {
  readonly api: HttpApi;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS });
    this.api = new HttpApi(this, 'Api', {
      description: 'Handoff web forms, rep links, unsubscribe and admin reads',
    });
    const stage = this.api.defaultStage?.node.defaultChild as CfnStage;
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
    stage.defaultRouteSettings = { throttlingBurstLimit: 200, throttlingRateLimit: 100 };
  }

  get url(): string {
    return this.api.apiEndpoint;
  }

  /** Routes `methods path` to `target`; `iam`: callers must sign with SigV4 (admin routes). */
  route(path: string, methods: HttpMethod[], target: IFunction, { iam = false } = {}): void {
    const routes = this.api.addRoutes({
      path,
      methods,
      integration: new HttpLambdaIntegration(`${target.node.id}Integration`, target),
      ...(iam ? { authorizer: new HttpIamAuthorizer() } : {}),
    });
    const publicBecause = PUBLIC_ROUTES[path];
    if (iam || !publicBecause) return;
    for (const r of routes)
      Validations.of(r).acknowledge({ id: 'AwsSolutions-APIG4', reason: publicBecause });
  }
}
