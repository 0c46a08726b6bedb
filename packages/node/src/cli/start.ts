import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { signDevToken } from '../auth/index.js';
import { loadConfig, redactConfig, startOptions } from '../config/load.js';
import type { WseConfig } from '../config/types.js';
import { WseError } from '../errors.js';
import { createLogger } from '../log.js';
import { WseNode } from '../node.js';

export const startCommand: CommandModule = {
  command: 'start',
  describe: 'Start a node',
  builder: (yargs: Argv) => yargs.options(startOptions),
  handler: (argv: ArgumentsCamelCase) => runStart(argv),
};

async function runStart(argv: Record<string, unknown>): Promise<void> {
  const config = await loadOrExit(argv);
  if (argv['printConfig'] === true) {
    process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
    return;
  }
  const logger = createLogger(config.logLevel, { node: config.nodeId, worker: 0 });
  let node: WseNode;
  try {
    node = await WseNode.start(config, logger);
  } catch (error) {
    process.stderr.write(`wse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  if (config.dev) await printDevBanner(config, node);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    node.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** A bad setting stops start-up with one line naming it (DESIGN.md, configuration). */
async function loadOrExit(argv: Record<string, unknown>): Promise<WseConfig> {
  try {
    return await loadConfig(argv, process.env);
  } catch (error) {
    if (error instanceof WseError) {
      process.stderr.write(`wse: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function printDevBanner(config: WseConfig, node: WseNode): Promise<void> {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const token =
    config.auth.mode === 'jwt' && config.auth.secret !== null
      ? await signDevToken(config.auth.secret, {
          sub: 'dev',
          ttlSeconds: 24 * 3600,
          claims: { wse_topics: { allow: ['*'] }, wse_publish: { allow: ['*'] } },
        })
      : '(auth disabled)';
  const lines = [
    '',
    'WSE dev node is running (development mode: generated secrets, do not use in production)',
    `  WebSocket:  ws://${host}:${node.worker.port}/wse`,
    `  Metrics:    http://${host}:${config.metricsPort}/metrics   Health: http://${host}:${config.metricsPort}/health`,
    `  HTTP API:   http://${host}:${node.worker.port}/api/publish   (Authorization: apikey ${config.apiKey ?? '(disabled)'})`,
    `  Dev token:  ${token}`,
    `  Try:        npx wscat -H "Authorization: Bearer <token>" -c ws://${host}:${node.worker.port}/wse`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
