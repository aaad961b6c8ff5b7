import type { Stack } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import {
  ConfigurationSet,
  ConfigurationSetEventDestination,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
} from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import type { AppConfig } from '../../functions/config/schema.ts';

/**
 * SES: the sender domain's identity (DKIM) and the configuration set every email is sent with, which
 * sends its send, bounce, complaint and reject events to the default EventBridge bus.
 */
export class HandoffMail extends Construct {
  readonly identity: EmailIdentity;
  readonly configurationSet: ConfigurationSet;
  private readonly domain: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly sender: AppConfig['sender'],
  ) {
    super(scope, id);
    this.domain = sender.fromAddress.split('@')[1] ?? '';
    this.identity = new EmailIdentity(this, 'SenderIdentity', { identity: Identity.domain(this.domain) });
    this.configurationSet = new ConfigurationSet(this, 'Mail', {
      reputationMetrics: true,
      sendingEnabled: true,
    });
    new ConfigurationSetEventDestination(this, 'ToEventBridge', {
      configurationSet: this.configurationSet,
      destination: EventDestination.eventBus(EventBus.fromEventBusName(this, 'DefaultBus', 'default')),
      events: [
        EmailSendingEvent.SEND,
        EmailSendingEvent.BOUNCE,
        EmailSendingEvent.COMPLAINT,
        EmailSendingEvent.REJECT,
      ],
    });
  }

  /** ses:SendRawEmail through this identity and configuration set, only as the configured sender. */
  allowSending(grantee: IGrantable): void {
    const stack = this.identity.stack as Stack;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['ses:SendRawEmail'],
        resources: [
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: this.domain }),
          stack.formatArn({
            service: 'ses',
            resource: 'configuration-set',
            resourceName: this.configurationSet.configurationSetName,
          }),
        ],
        conditions: { StringEquals: { 'ses:FromAddress': this.sender.fromAddress } },
      }),
    );
  }
}
