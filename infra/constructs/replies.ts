import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ReceiptRuleSet, TlsPolicy } from 'aws-cdk-lib/aws-ses';
import { EmailEncoding, Sns } from 'aws-cdk-lib/aws-ses-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/**
 * Replies to nurture emails (config/app.json `replies.domain`): SES receiving takes mail for the reply
 * subdomain (a receipt rule set: spam and virus scan, TLS required) and hands each message whole, Base64,
 * to an SNS topic (encrypted with its own KMS key, which SES may use), which invokes `handler`
 * (functions/events/inbound-reply.ts). SNS carries messages up to 150 KB: a reply with a larger attachment
 * is not delivered (a person's reply is a few KB). To go live: verify the domain in SES, point its MX at
 * inbound-smtp.<region>.amazonaws.com, and make this rule set the active one (an account has one active
 * rule set: `aws ses set-active-receipt-rule-set --rule-set-name <ReplyRuleSetName>`; docs/deploy.md).
 */
export class HandoffReplies extends Construct {
  readonly ruleSet: ReceiptRuleSet;

  constructor(scope: Construct, id: string, { domain, handler }: { domain: string; handler: IFunction }) {
    super(scope, id);
    const key = new Key(this, 'Key', {
      description: 'Handoff: replies to nurture emails on their way from SES receiving to the handler',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // SES publishes to the encrypted topic: it needs the key, for this account's receipts only.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': key.stack.account } },
      }),
    );
    const topic = new Topic(this, 'Inbound', { masterKey: key, enforceSSL: true });
    topic.addSubscription(new LambdaSubscription(handler));
    this.ruleSet = new ReceiptRuleSet(this, 'RuleSet', {
      rules: [
        {
          recipients: [domain],
          actions: [new Sns({ topic, encoding: EmailEncoding.BASE64 })],
          scanEnabled: true,
          tlsPolicy: TlsPolicy.REQUIRE,
        },
      ],
    });
  }
}
