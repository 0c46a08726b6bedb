import type { Server } from 'node:http';
import type { Counter } from 'prom-client';
import type { WseConfig } from './config/types.js';
import { WseError } from './errors.js';
import type { Logger } from './log.js';
import { registryEndpoint, startMetricsServer, type HealthReport } from './metrics/http-server.js';
import { epochHex } from './protocol/publication.js';
import { preparePublication } from './worker/publish-handler.js';
import type { Stamp } from './worker/router.js';
import { WorkerServer } from './worker/server.js';
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

async function health(worker: WorkerServer): Promise<HealthReport> {
  const { metrics, store, intake, config, startedAtMs } = worker.ctx;
  const counts = metrics.counts;
  const recovery = store.stats();
  return {
    status: worker.isDraining ? 'draining' : 'ok',
    node_id: config.nodeId,
    uptime_s: Math.floor((Date.now() - startedAtMs) / 1000),
    workers: [{ index: 0, pid: process.pid, connections: counts.connectionsOpen }],
    connections: counts.connectionsOpen,
    recovery: { topics: recovery.topics, bytes: recovery.bytes, budget_bytes: config.recovery.memoryBudgetBytes },
    queues: { publish_jobs: intake.queued, publish_bytes: intake.bytes, fanout_backlog_bytes: counts.fanoutBacklogBytes, paced: counts.paced === 1 },
    drops: {
      slow_consumers: await total(metrics.slowConsumerDrops),
      rate_limited: await total(metrics.rateLimited),
      inbound: await total(metrics.inboundDropped),
      publish_rejected: await total(metrics.publishRejected),
    },
  };
}

async function total(counter: Counter<string>): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}
