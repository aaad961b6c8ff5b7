// Bundled configuration for Lambda handlers: the same JSON files the stack validates at synth time,
// parsed again at cold start so a handler never runs on a config the schema rejects.
import app from '../../config/app.json' with { type: 'json' };
import nurture from '../../config/nurture.json' with { type: 'json' };
import reps from '../../config/reps.json' with { type: 'json' };
import scoring from '../../config/scoring.json' with { type: 'json' };
import { type HandoffConfig, parseConfig } from './schema.ts';

export const config: HandoffConfig = parseConfig({ app, nurture, reps, scoring });

/** How long lead items are kept (their TTL): the lead and funnel stores take it. */
export const leadRetention = { retentionDays: config.app.data.leadRetentionDays };

/** The funnel store's options: the markers' retention and how many shards a day's counters have. */
export const funnelOptions = { ...leadRetention, shards: config.app.data.funnelShards };
