import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

// One service name for every function. Log fields are ids and outcomes only: never emails, names or bodies.
export const logger = new Logger({ serviceName: 'handoff' });
export const metrics = new Metrics({ namespace: 'Handoff', serviceName: 'handoff', logger });
