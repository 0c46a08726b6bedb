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
/** How long a rolling restart waits for a worker to step aside from the mesh. */
const STEP_ASIDE_TIMEOUT_MS = 5000;

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
  private restartAgain = false;
  /** Workers a rolling restart has replaced and is draining. */
  private readonly retiring = new Set<Worker>();
  private readonly startedAtMs = Date.now();
  private healthId = 0;
  private readonly healthWaiters = new Map<number, (report: WorkerHealth) => void>();

  constructor(
    private config: WseConfig,
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
    await Promise.all([...this.slots.map((slot) => this.stopWorker(slot)), ...[...this.retiring].map((worker) => this.drainWorker(worker))]);
    await new Promise<void>((resolve) => (this.metricsServer === null ? resolve() : this.metricsServer.close(() => resolve())));
    this.logger.info('stopped');
  }

  /**
   * SIGHUP: replace workers one at a time, each replacement serving before its predecessor drains.
   * Replacements start with `config` (reloadConfig keeps the settings fixed while running). A call
   * during a restart runs one more round after it, so every worker ends up on the latest config.
   */
  async rollingRestart(config: WseConfig = this.config): Promise<void> {
    this.config = config;
    if (this.draining) return;
    if (this.rolling) {
      this.restartAgain = true;
      return;
    }
    this.rolling = true;
    try {
      do {
        this.restartAgain = false;
        this.logger.info('rolling restart');
        for (const slot of this.slots) {
          if (this.draining) return;
          await this.replace(slot);
        }
        this.logger.info('rolling restart done');
      } while (this.restartAgain && !this.draining);
    } finally {
      this.rolling = false;
    }
  }

  /**
   * The client port is shared (SO_REUSEPORT), so the replacement listens beside the old worker. The
   * mesh port is not, and the replacement will advertise the old worker's address, so the two could
   * never link: the old worker first steps aside (DRAIN hands its topics over; it frees the port),
   * keeping its clients. Once the replacement is ready the old worker drains: its clients reconnect
   * to a serving worker, even on a one-worker node, and recover what they missed meanwhile.
   */
  private async replace(slot: WorkerSlot): Promise<void> {
    const old = slot.worker;
    slot.crashLooping = false;
    if (old === null) return this.fork(slot);
    // The old worker's exit from here on is not a crash: the slot is the replacement's.
    slot.stopping = true;
    this.retiring.add(old);
    try {
      await this.stepAside(old);
      await this.fork(slot);
      await this.drainWorker(old);
    } finally {
      this.retiring.delete(old);
    }
  }

  private stepAside(worker: Worker): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', done);
        resolve();
      };
      const onMessage = (message: unknown): void => {
        if (isFromWorker(message) && message.wse === 'stepped-aside') done();
      };
      // A worker that does not answer keeps the port; the replacement then fails to bind it and is
      // restarted with backoff once the old worker has drained and exited.
      const timer = setTimeout(done, STEP_ASIDE_TIMEOUT_MS);
      worker.on('message', onMessage);
      worker.once('exit', done);
      send(worker, { wse: 'step-aside' }, done);
    });
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
    // An IPC write to a worker that is exiting fails (EPIPE). Unheard, that 'error' would end the
    // supervisor and with it every worker; the exit itself is handled by onExit.
    worker.on('error', (error) => this.logger.warn({ worker_index: slot.index, err: error }, 'worker IPC error'));
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

  private async stopWorker(slot: WorkerSlot): Promise<void> {
    if (slot.worker === null) return;
    slot.stopping = true;
    await this.drainWorker(slot.worker);
  }

  /** Asks a worker to drain and waits for it to exit, killing it if it overstays. */
  private async drainWorker(worker: Worker): Promise<void> {
    if (worker.isDead()) return;
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
