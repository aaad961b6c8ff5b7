import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, configFiles, type HandoffConfig, parseConfig } from '../functions/config/schema.ts';

/** Reads and validates `config/*.json`; throws a ConfigError naming file, field and problem. */
export function loadConfig(dir: string): HandoffConfig {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(configFiles)) {
    const file = join(dir, `${name}.json`);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new ConfigError(`Invalid configuration:\n  config/${name}.json: (file): cannot be read`);
    }
    try {
      raw[name] = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(
        `Invalid configuration:\n  config/${name}.json: (file): not valid JSON: ${(e as Error).message}`,
      );
    }
  }
  return parseConfig(raw as Record<keyof HandoffConfig, unknown>);
}
