// Imported first by local/start.ts: the configuration is checked before any module that parses it at
// import time (the handlers' bundled config), so a bad config/*.json prints its problems, one per line,
// and `npm start` exits 1, instead of a stack trace from deep inside an import. start.ts uses the config
// read here (once).
import { join } from 'node:path';
import { ConfigError, type HandoffConfig } from '../functions/config/schema.ts';
import { loadConfig } from '../infra/load-config.ts';

function checkedConfig(): HandoffConfig {
  try {
    return loadConfig(join(import.meta.dirname, '..', 'config'));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}

/** config/*.json, parsed and checked. */
export const startConfig = checkedConfig();
