import { ConfigError } from '../errors.js';
import { loadConfig } from './load.js';
import type { WseConfig } from './types.js';

/** What a running node cannot change: where it listens, how many workers it has, who it is. */
const FIXED_WHILE_RUNNING: ReadonlyArray<[flag: string, read: (config: WseConfig) => unknown]> = [
  ['--host', (c) => c.host],
  ['--port', (c) => c.port],
  ['--metrics-port', (c) => c.metricsPort],
  ['--workers', (c) => c.workers],
  ['--node-id', (c) => c.nodeId],
  ['--mesh-host', (c) => c.mesh.host],
  ['--mesh-port', (c) => c.mesh.port],
];

/**
 * SIGHUP: the configuration read again from the same flags, environment and `--config` file (and
 * the PEM files it names), for the workers a rolling restart starts. Secrets `--dev` generated are
 * kept. Throws ConfigError (one line) for a bad value or a change to a setting fixed while running.
 */
export async function reloadConfig(running: WseConfig, argv: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<WseConfig> {
  const next = await loadConfig(argv, env, { jwtSecret: running.auth.secret, apiKey: running.apiKey });
  for (const [flag, read] of FIXED_WHILE_RUNNING) {
    if (read(next) !== read(running)) throw new ConfigError(flag, read(next), `${String(read(running))} while the node runs; restart the node to change it`);
  }
  return next;
}
