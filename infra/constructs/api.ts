import { Validations } from 'aws-cdk-lib';
import { type CfnStage, HttpApi, type HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Public by design: web forms, emailed links (HMAC-signed, verified in the handler) and unsubscribe; /admin/* routes use IAM.',
    });
  }

  get url(): string {
    return this.api.apiEndpoint;
  }

  /** Routes `methods path` to `target`; `iam`: callers must sign with SigV4 (admin routes). */
  route(path: string, methods: HttpMethod[], target: IFunction, { iam = false } = {}): void {
    this.api.addRoutes({
      path,
      methods,
      integration: new HttpLambdaIntegration(`${target.node.id}Integration`, target),
      ...(iam ? { authorizer: new HttpIamAuthorizer() } : {}),
    });
  }
}
