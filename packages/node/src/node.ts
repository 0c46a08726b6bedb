import type { Server } from 'node:http';
import type { WseConfig } from './config/types.js';
import { WseError } from './errors.js';
import type { Logger } from './log.js';
import { registryEndpoint, startMetricsServer, type HealthReport } from './metrics/http-server.js';
import { epochHex } from './protocol/publication.js';
import { preparePublication } from './worker/publish-handler.js';
import type { Stamp } from './worker/router.js';
import { WorkerServer } from './worker/server.js';
import { workerHealth } from './worker/health.js';
import { nodeHealth } from './supervisor/node-health.js';
import { performance } from 'node:perf_hooks';

export interface PublishOptions {
  /** The publication's `t` (default `message`). */
  type?: string;
}

export interface PublishedStamp {
  topic: string;
  epoch: string;
  offset: number;
}

/**
 * A running node of one worker: the client port (WebSocket + HTTP API) and the metrics port.
 * The CLI and library mode (`createNode`) both start one.
 */
export class WseNode {
  private constructor(
    readonly config: WseConfig,
    readonly worker: WorkerServer,
    private readonly metricsServer: Server,
  ) {}

  static async start(config: WseConfig, logger: Logger): Promise<WseNode> {
    const worker = await WorkerServer.start(config, logger);
    let metricsServer: Server;
    try {
      metricsServer = await startMetricsServer(config.host, config.metricsPort, {
        metrics: () => registryEndpoint(worker.ctx.metrics.registry),
        health: () => health(worker),
      });
    } catch (error) {
      worker.stop();
      throw new WseError('WSE_ERR_LISTEN', `cannot listen on ${config.host}:${config.metricsPort} (--metrics-port)`, { cause: error });
    }
    logger.info({ port: worker.port, metrics_port: config.metricsPort, node_id: config.nodeId }, 'wse ready');
    return new WseNode(config, worker, metricsServer);
  }

  /**
   * Publishes through the same data path as clients and the HTTP API. While the worker paces
   * publishers the promise waits (DESIGN.md, flow control); it rejects only for an invalid or
   * oversize publication.
   */
  async publish(topic: string, data: unknown, options: PublishOptions = {}): Promise<PublishedStamp> {
    const ctx = this.worker.ctx;
    const prepared = preparePublication(ctx, { topic, data, type: options.type });
    if (prepared instanceof WseError) throw prepared;
    await ctx.backlog.whenOpen();
    const stamp = await new Promise<Stamp>((resolve, reject) => {
      ctx.intake.submit({
        topic: prepared.topic,
        body: prepared.body,
        source: 'library',
        receivedAt: performance.now(),
        done: (error, result) => (error === null ? resolve(result as Stamp) : reject(error)),
      });
    });
    return { topic: prepared.topic, epoch: epochHex(stamp.epoch), offset: stamp.offset };
  }

  /** Graceful drain (clients closed 4300), then both ports close. */
  async close(): Promise<void> {
    await this.worker.drain();
    await new Promise<void>((resolve) => this.metricsServer.close(() => resolve()));
  }
}

function health(worker: WorkerServer): Promise<HealthReport> {
  const { config, startedAtMs } = worker.ctx;
  return workerHealth(worker, 0).then((report) =>
    nodeHealth(
      { nodeId: config.nodeId, startedAtMs, draining: worker.isDraining, workersConfigured: 1, crashLooping: [], recoveryBudgetBytes: config.recovery.memoryBudgetBytes },
      [report],
    ),
  );
}
