import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { awsJsonHandler } from '../aws-json.ts';
import type { LocalStepFunctions } from './api.ts';

/** The Step Functions API over AWS JSON 1.0 (`X-Amz-Target: AWSStepFunctions.<Operation>`). */
export function sfnHandler(
  sfn: LocalStepFunctions,
  fallback: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): RequestListener {
  type Body = Record<string, never>;
  return awsJsonHandler(
    'AWSStepFunctions',
    {
      StartExecution: (b) => sfn.startExecution(b as Body),
      DescribeExecution: (b) => sfn.describeExecution(b as Body),
      ListExecutions: (b) => sfn.listExecutions(b as Body),
      GetExecutionHistory: (b) => sfn.getExecutionHistory(b as Body),
      StopExecution: (b) => sfn.stopExecution(b as Body),
      RedriveExecution: (b) => sfn.redriveExecution(b as Body),
      SendTaskSuccess: (b) => sfn.sendTaskSuccess(b as Body),
      SendTaskFailure: (b) => sfn.sendTaskFailure(b as Body),
      SendTaskHeartbeat: (b) => sfn.sendTaskHeartbeat(b as Body),
      ListStateMachines: () => sfn.listStateMachines(),
      DescribeStateMachine: (b) => sfn.describeStateMachine(b as Body),
    },
    fallback,
  );
}
