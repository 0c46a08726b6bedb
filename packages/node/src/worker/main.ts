import { AggregatorRegistry } from 'prom-client';
import type { WseConfig } from '../config/types.js';
import { createLogger } from '../log.js';
import { WORKER_CONFIG_ENV, WORKER_INDEX_ENV, type FromWorker, type ToWorker } from '../supervisor/messages.js';
import { workerHealth } from './health.js';
import { WorkerServer } from './server.js';

/**
 * Entry point of a worker process forked by the supervisor. The supervisor owns the signals:
 * it sends `drain` over IPC; a worker whose supervisor vanished drains on its own.
 */
const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? 'null') as WseConfig;
const index = Number(process.env[WORKER_INDEX_ENV] ?? 0);
const logger = createLogger(config.logLevel, { node: config.nodeId, worker: index });

function send(message: FromWorker): void {
  if (process.connected) process.send?.(message);
}

let server: WorkerServer;
try {
  server = await WorkerServer.start(config, logger, index);
} catch (error) {
  logger.error({ err: error }, 'worker failed to start');
  process.exit(1);
}
// The supervisor's AggregatorRegistry gathers exactly this registry over the cluster IPC; prom-client
// installs the worker's answering listener only when an AggregatorRegistry is constructed here.
AggregatorRegistry.setRegistries([server.ctx.metrics.registry]);
new AggregatorRegistry();

let draining = false;
function drainAndExit(): void {
  if (draining) return;
  draining = true;
  server.drain().then(
    () => {
      send({ wse: 'drained' });
      process.exit(0);
    },
    (error: unknown) => {
      logger.error({ err: error }, 'drain failed');
      process.exit(1);
    },
  );
}

process.on('message', (message: ToWorker) => {
  if (message.wse === 'drain') drainAndExit();
  else if (message.wse === 'health') void workerHealth(server, index).then((report) => send({ wse: 'health', id: message.id, report }));
  else if (message.wse === 'step-aside') {
    server.ctx.member?.drain();
    server.ctx.member?.closeListener();
    send({ wse: 'stepped-aside' });
  }
});
// Ctrl-C reaches the whole process group; the supervisor decides what happens.
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.on('SIGTERM', drainAndExit);
process.on('disconnect', drainAndExit);
logger.info({ port: server.port }, 'worker ready');
send({ wse: 'ready', port: server.port });
