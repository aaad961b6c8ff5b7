import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';

// One service name for every function. Log fields are ids and outcomes only: never emails, names or bodies.
export const logger = new Logger({ serviceName: 'handoff' });

// Powertools Metrics logs "No application metrics to publish" whenever an invocation records none, which
// is most of them (metrics here are business events). Its other diagnostics reach the logger unchanged.
const EMPTY_FLUSH = 'No application metrics to publish';
const metricsLogger = {
  debug: (message: string) => logger.debug(message),
  info: (message: string) => logger.info(message),
  warn: (message: string) => {
    if (!String(message).startsWith(EMPTY_FLUSH)) logger.warn(message);
  },
  error: (message: string) => logger.error(message),
};

export const metrics = new Metrics({ namespace: 'Handoff', serviceName: 'handoff', logger: metricsLogger });

/**
 * Every handler's first middlewares (HTTP, Task and event handlers alike): the Lambda context on each log
 * line, with keys reset per invocation, and the invocation's metrics flushed when it ends.
 */
export function observed() {
  return [injectLambdaContext(logger, { resetKeys: true }), logMetrics(metrics)];
}
