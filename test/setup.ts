import '#local/long-timers.ts';
import { config } from '#functions/config/bundled.ts';

// Handlers read these at module scope; unit tests mock the AWS clients, so any value works.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.TABLE_NAME ??= 'handoff-test';
process.env.PUBLIC_BASE_URL ??= 'https://api.handoff.test';
process.env.LINK_SECRET_ARN ??= 'arn:aws:secretsmanager:us-east-1:123456789012:secret:link-key';
process.env.STATE_MACHINE_ARN ??= 'arn:aws:states:us-east-1:123456789012:stateMachine:Handoff';
// What the stack sets from config/app.json's `forms` (infra: useForms).
process.env.FORM_ALLOWED_ORIGINS ??= config.app.forms.allowedOrigins.join(' ');
process.env.FORM_THANK_YOU_URL ??= config.app.forms.thankYouUrl;
