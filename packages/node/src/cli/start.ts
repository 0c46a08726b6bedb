import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { signDevToken } from '../auth/index.js';
import { loadConfig, redactConfig, startOptions } from '../config/load.js';
import { reloadConfig } from '../config/reload.js';
import type { WseConfig } from '../config/types.js';
import { WseError } from '../errors.js';
import { createLogger } from '../log.js';
import { Supervisor } from '../supervisor/supervisor.js';

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
  const logger = createLogger(config.logLevel, { node: config.nodeId, worker: 'supervisor' });
  const supervisor = new Supervisor(config, logger);
  try {
    await supervisor.start();
  } catch (error) {
    process.stderr.write(`wse: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  if (config.dev) await printDevBanner(config);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    supervisor.drain().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let running = config;
  process.on('SIGHUP', () => {
    reloadConfig(running, argv, process.env).then(
      (next) => {
        running = next;
        logger.info('configuration reloaded');
        return supervisor.rollingRestart(next);
      },
      // A bad file must not take the node down, nor restart workers into the old settings.
      (error: unknown) => logger.error({ err: error }, 'configuration not reloaded; the workers keep running as they are'),
    );
  });
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

async function printDevBanner(config: WseConfig): Promise<void> {
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
    `  WebSocket:  ws://${host}:${config.port}/wse`,
    `  Metrics:    http://${host}:${config.metricsPort}/metrics   Health: http://${host}:${config.metricsPort}/health`,
    `  HTTP API:   http://${host}:${config.port}/api/publish   (Authorization: apikey ${config.apiKey ?? '(disabled)'})`,
    `  Dev token:  ${token}`,
    `  Try:        npx wscat -H "Authorization: Bearer <token>" -c ws://${host}:${config.port}/wse`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
