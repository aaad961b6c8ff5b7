import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveStack } from '#console/stack.ts';

const cfn = mockClient(CloudFormationClient);
afterEach(() => cfn.reset());
const client = () => new CloudFormationClient({ region: 'eu-west-1' });
const outputs = (o: Record<string, string>) => ({
  Stacks: [
    {
      StackName: 'Handoff',
      CreationTime: new Date(),
      StackStatus: 'CREATE_COMPLETE' as const,
      Outputs: Object.entries(o).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    },
  ],
});

describe('npm run console -- --stack: reading the stack', () => {
  it('reads the state machine, table and API from the stack outputs', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'Handoff' }).resolves(
      outputs({
        StateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:LeadToClose',
        TableName: 'Handoff-Table-1',
        ApiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
      }),
    );
    await expect(resolveStack(client(), 'Handoff')).resolves.toEqual({
      stackName: 'Handoff',
      region: 'eu-west-1',
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:LeadToClose',
      tableName: 'Handoff-Table-1',
      apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
    });
  });

  it('says plainly when the stack, an output or the credentials are missing', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(
        Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }),
      );
    await expect(resolveStack(client(), 'Nope')).rejects.toThrow('No stack named Nope in eu-west-1');
    cfn.reset();
    cfn.on(DescribeStacksCommand).resolves(outputs({ TableName: 'T' }));
    await expect(resolveStack(client(), 'Handoff')).rejects.toThrow('has no StateMachineArn output');
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    await expect(resolveStack(client(), 'Handoff')).rejects.toThrow('No AWS credentials');
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('The security token included in the request is expired'), {
        name: 'ExpiredToken',
      }),
    );
    await expect(resolveStack(client(), 'Handoff')).rejects.toThrow('have expired');
  });
});
