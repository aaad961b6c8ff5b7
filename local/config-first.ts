// Imported first by local/start.ts: the configuration is checked before any module that parses it at
// import time (the handlers' bundled config), so a bad config/*.json prints its problems, one per line,
// and `npm start` exits 1, instead of a stack trace from deep inside an import.
import { join } from 'node:path';
import { ConfigError } from '../functions/config/schema.ts';
import { loadConfig } from '../infra/load-config.ts';

try {
  loadConfig(join(import.meta.dirname, '..', 'config'));
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(e.message);
  process.exit(1);
}
