import { loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import { WseNode } from './node.js';

export { WseNode, type PublishOptions, type PublishedStamp } from './node.js';
export { WseError, ConfigError } from './errors.js';
export type { WseConfig } from './config/types.js';

/**
 * Library mode: start a node inside this process. `options` takes the same settings as the CLI
 * flags, in camelCase (`{ port: 5006, jwtSecret: '…', apiKey: '…' }`), validated the same way.
 */
export async function createNode(options: Record<string, unknown> = {}): Promise<WseNode> {
  const config = await loadConfig(options, {});
  return WseNode.start(config, createLogger(config.logLevel, { node: config.nodeId, worker: 0 }));
}
