// The local DescribeStacks (local/cloudformation.ts) as the AWS SDK's CloudFormation client and the console's
// resolveStack read it: AWS's query protocol both ways, AWS's error codes, the template's outputs resolved.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveStack, StackError } from '#console/stack.ts';
import {
  cloudFormationHandler,
  type LocalStackDescription,
  outputsOf,
  stackIdOf,
} from '#local/cloudformation.ts';
import type { CfnTemplate } from '#local/template.ts';

const names = {
  region: 'us-east-1',
  account: '000000000000',
  overrides: { 'Api.ApiEndpoint': 'http://127.0.0.1:3000' },
};

const template: CfnTemplate = {
  Resources: {
    Api: { Type: 'AWS::ApiGatewayV2::Api' },
    Flow: { Type: 'AWS::StepFunctions::StateMachine' },
    Data: { Type: 'AWS::DynamoDB::Table' },
    Sender: { Type: 'AWS::SES::EmailIdentity', Properties: { EmailIdentity: 'mail.handoff.example' } },
  },
  Outputs: {
    ApiUrl: { Value: { 'Fn::GetAtt': ['Api', 'ApiEndpoint'] } },
    StateMachineArn: { Value: { Ref: 'Flow' }, Description: 'The <journey> & its runs' },
    TableName: { Value: { Ref: 'Data' } },
    SenderDomain: { Value: { Ref: 'Sender' } },
  },
};

const stack: LocalStackDescription = {
  StackName: 'Handoff',
  StackId: stackIdOf('Handoff', names, '6a1f0f3e-0000-4000-8000-000000000001'),
  CreationTime: new Date('2026-12-04T09:00:00Z'),
  Outputs: outputsOf(template, names),
};

let server: Server;
let cfn: CloudFormationClient;

beforeAll(async () => {
  server = createServer(cloudFormationHandler(stack));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cfn = new CloudFormationClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  cfn.destroy();
  await new Promise((r) => server.close(r));
});

describe('the template’s outputs', () => {
  it('resolve as CloudFormation resolves them here: ARNs, names, the API at its local URL, an identity’s name', () => {
    expect(Object.fromEntries(stack.Outputs.map((o) => [o.OutputKey, o.OutputValue]))).toEqual({
      ApiUrl: 'http://127.0.0.1:3000',
      StateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow',
      TableName: 'Data',
      SenderDomain: 'mail.handoff.example',
    });
  });
});

describe('DescribeStacks through the AWS SDK', () => {
  it('answers the stack by name and by id, with its status, id, creation time and outputs', async () => {
    for (const StackName of ['Handoff', stack.StackId]) {
      const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName }));
      expect(Stacks).toHaveLength(1);
      expect(Stacks[0]).toMatchObject({
        StackName: 'Handoff',
        StackId: stack.StackId,
        StackStatus: 'CREATE_COMPLETE',
        CreationTime: stack.CreationTime,
      });
      expect(Stacks[0]?.Outputs).toContainEqual({
        OutputKey: 'StateMachineArn',
        OutputValue: 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow',
        Description: 'The <journey> & its runs',
      });
    }
  });

  it('lists the one stack when no name is given', async () => {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({}));
    expect(Stacks.map((s) => s.StackName)).toEqual(['Handoff']);
  });

  it('says a stack it does not run does not exist, as AWS does (ValidationError)', async () => {
    const error = await cfn.send(new DescribeStacksCommand({ StackName: 'Other' })).catch((e) => e);
    expect(error).toBeInstanceOf(CloudFormationServiceException);
    expect(error).toMatchObject({ name: 'ValidationError', message: 'Stack with id Other does not exist' });
    expect(error.$metadata.httpStatusCode).toBe(400);
  });

  it('refuses every other action, changing nothing', async () => {
    const error = await cfn.send(new DeleteStackCommand({ StackName: 'Handoff' })).catch((e) => e);
    expect(error).toMatchObject({ name: 'InvalidAction' });
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: 'Handoff' }));
    expect(Stacks).toHaveLength(1);
  });
});

describe('the console’s resolveStack against it', () => {
  it('finds the state machine, the table and the API', async () => {
    await expect(resolveStack(cfn, 'Handoff')).resolves.toEqual({
      stackName: 'Handoff',
      region: 'us-east-1',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Flow',
      tableName: 'Data',
      apiUrl: 'http://127.0.0.1:3000',
    });
  });

  it('says plainly when the stack is not there', async () => {
    const error = await resolveStack(cfn, 'Staging').catch((e) => e);
    expect(error).toBeInstanceOf(StackError);
    expect(error.message).toBe(
      'No stack named Staging in us-east-1: deploy it (npx cdk deploy) or pass --region.',
    );
  });
});
