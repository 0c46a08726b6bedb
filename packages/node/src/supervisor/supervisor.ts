import cluster, { type Worker } from 'node:cluster';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { WseConfig } from '../config/types.js';
import { WseError } from '../errors.js';
import type { Logger } from '../log.js';
import { startMetricsServer } from '../metrics/http-server.js';
import { isFromWorker, WORKER_CONFIG_ENV, WORKER_INDEX_ENV, type ToWorker, type WorkerHealth } from './messages.js';
import { nodeHealth } from './node-health.js';
import { SupervisorMetrics } from './supervisor-metrics.js';
import { WorkerSlot } from './worker-slot.js';

const WORKER_ENTRY = fileURLToPath(new URL('../worker/main.js', import.meta.url));
const HEALTH_TIMEOUT_MS = 2000;
/** Beyond the drain timeout, how long a worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 5000;

/**
 * The cluster primary of one node (DESIGN.md, process model): forks the workers, restarts the ones
 * that die, serves /metrics and /health for all of them, and owns the signals.
 */
export class Supervisor {
  private readonly slots: WorkerSlot[];
  private readonly metrics: SupervisorMetrics;
  private metricsServer: Server | null = null;
  private draining = false;
  private rolling = false;
  private readonly startedAtMs = Date.now();
  private healthId = 0;
  private readonly healthWaiters = new Map<number, (report: WorkerHealth) => void>();

  constructor(
    private readonly config: WseConfig,
    private readonly logger: Logger,
  ) {
    this.slots = Array.from({ length: config.workers }, (_, index) => new WorkerSlot(index));
    this.metrics = new SupervisorMetrics(config.nodeId, this.slots);
  }

  /** Starts every worker and the metrics port; resolves when all workers are ready. */
  async start(): Promise<void> {
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], silent: false });
    cluster.on('message', (_worker, message: unknown) => this.onMessage(message));
    this.metricsServer = await startMetricsServer(this.config.host, this.config.metricsPort, {
      metrics: () => this.metrics.render(),
      health: () => this.health(),
    });
    await Promise.all(this.slots.map((slot) => this.fork(slot)));
    if (!this.slots.some((slot) => slot.ready)) {
      await this.drain();
      throw new WseError('WSE_ERR_LISTEN', `no worker could start on ${this.config.host}:${this.config.port} (--port); see the log above`);
    }
    this.logger.info({ workers: this.slots.length, port: this.config.port, metrics_port: this.config.metricsPort }, 'wse ready');
  }

  /** SIGTERM/SIGINT: every worker drains, then the supervisor exits (bounded in time). */
  async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.logger.info('draining');
    await Promise.all(this.slots.map((slot) => this.stopWorker(slot)));
    await new Promise<void>((resolve) => (this.metricsServer === null ? resolve() : this.metricsServer.close(() => resolve())));
    this.logger.info('stopped');
  }

  /** SIGHUP: replace workers one at a time; the others keep serving the port meanwhile. */
  async rollingRestart(): Promise<void> {
    if (this.rolling || this.draining) return;
    this.rolling = true;
    this.logger.info('rolling restart');
    try {
      for (const slot of this.slots) {
        if (this.draining) break;
        await this.stopWorker(slot);
        slot.crashLooping = false;
        await this.fork(slot);
      }
      this.logger.info('rolling restart done');
    } finally {
      this.rolling = false;
    }
  }

  private fork(slot: WorkerSlot): Promise<void> {
    const worker = cluster.fork({
      [WORKER_CONFIG_ENV]: JSON.stringify(this.config),
      [WORKER_INDEX_ENV]: String(slot.index),
    });
    slot.worker = worker;
    slot.ready = false;
    slot.stopping = false;
    slot.startedAtMs = Date.now();
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
    return new Promise((resolve) => {
      const onReady = (message: unknown): void => {
        if (!isFromWorker(message) || message.wse !== 'ready') return;
        worker.off('message', onReady);
        worker.off('exit', onExit);
        slot.ready = true;
        this.logger.info({ worker_index: slot.index, worker_pid: worker.process.pid }, 'worker up');
        resolve();
      };
      // A worker that dies before it is ready is restarted by onExit; its start still resolves.
      const onExit = (): void => {
        worker.off('message', onReady);
        resolve();
      };
      worker.on('message', onReady);
      worker.once('exit', onExit);
    });
  }

  private onExit(slot: WorkerSlot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.ready = false;
    if (this.draining || slot.stopping) return;
    const delay = slot.recordExit(Date.now());
    if (delay === null) {
      this.logger.error({ worker_index: slot.index, code, signal }, 'worker is crash-looping; not restarting it');
      return;
    }
    this.metrics.restarts.inc();
    slot.restarts++;
    this.logger.warn({ worker_index: slot.index, code, signal, restart_in_ms: delay }, 'worker exited; restarting');
    setTimeout(() => {
      if (!this.draining && slot.worker === null) void this.fork(slot);
    }, delay);
  }

  /** Asks a worker to drain and waits for it to exit, killing it if it overstays. */
  private async stopWorker(slot: WorkerSlot): Promise<void> {
    const worker = slot.worker;
    if (worker === null || worker.isDead()) return;
    slot.stopping = true;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    send(worker, { wse: 'drain' });
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), this.config.drainTimeoutMs + EXIT_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  private onMessage(message: unknown): void {
    if (!isFromWorker(message) || message.wse !== 'health') return;
    this.healthWaiters.get(message.id)?.(message.report);
  }

  private async health() {
    const live = this.slots.filter((slot) => slot.worker !== null && slot.ready);
    const reports = await Promise.all(live.map((slot) => this.askHealth(slot.worker as Worker)));
    return nodeHealth(
      {
        nodeId: this.config.nodeId,
        startedAtMs: this.startedAtMs,
        draining: this.draining,
        workersConfigured: this.slots.length,
        crashLooping: this.slots.filter((slot) => slot.crashLooping).map((slot) => slot.index),
        recoveryBudgetBytes: this.config.recovery.memoryBudgetBytes,
      },
      reports.filter((report): report is WorkerHealth => report !== null),
    );
  }

  private askHealth(worker: Worker): Promise<WorkerHealth | null> {
    const id = ++this.healthId;
    return new Promise((resolve) => {
      const answer = (report: WorkerHealth | null): void => {
        clearTimeout(timer);
        this.healthWaiters.delete(id);
        resolve(report);
      };
      const timer = setTimeout(() => answer(null), HEALTH_TIMEOUT_MS);
      this.healthWaiters.set(id, answer);
      send(worker, { wse: 'health', id }, () => answer(null));
    });
  }
}

/** `onFailed` runs when the message cannot reach the worker (it is gone or going). */
function send(worker: Worker, message: ToWorker, onFailed: () => void = () => undefined): void {
  if (!worker.isConnected()) return onFailed();
  // A worker killed a moment ago still looks connected until its exit is processed; the write then
  // fails (EPIPE). With a callback the failure comes here instead of as an 'error' event nobody
  // listens to, which would take the supervisor down. onExit restarts the worker.
  worker.send(message, (error) => {
    if (error instanceof Error) onFailed();
  });
}
