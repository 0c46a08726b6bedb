import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { CloseCode, type Session } from './session.js';

export interface BacklogOptions {
  /** Worker-wide unwritten bytes above which publishers are paced. */
  highWaterBytes: number;
  /** Per-connection limit (PROTOCOL.md §6). */
  maxOutboundBytes: number;
  intervalMs: number;
}

/**
 * Watches what the worker's WebSocket connections have not yet written (DESIGN.md, flow control).
 * uWS gives no total, so a timer samples every connection: O(connections) per tick, nothing per
 * message. Two decisions come out of it:
 * - a connection past 3/4 of its limit is a slow consumer and is closed with 4008 before uWS's own
 *   hard limit (which closes without a status) is reached;
 * - while the total is above the high-water mark, publishers are paced; they resume below half.
 */
export class BacklogMonitor {
  private paced = false;
  private pacedSinceMs = 0;
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sessions: Set<Session>,
    private readonly metrics: WorkerMetrics,
    private readonly options: BacklogOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sample(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.release();
  }

  get isPaced(): boolean {
    return this.paced;
  }

  /** Resolves when publishers may go on (at once when not paced). */
  whenOpen(): Promise<void> {
    if (!this.paced) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Registers a callback for the next time pacing ends. */
  onOpen(callback: () => void): void {
    if (!this.paced) callback();
    else this.waiters.push(callback);
  }

  sample(): void {
    const slowMark = (this.options.maxOutboundBytes * 3) / 4;
    let total = 0;
    for (const session of this.sessions) {
      const backlog = session.backlog();
      if (backlog > slowMark) {
        session.end(CloseCode.slowConsumer, 'slow_consumer', 'slow consumer');
        continue;
      }
      total += backlog;
    }
    this.metrics.counts.fanoutBacklogBytes = total;
    if (!this.paced && total > this.options.highWaterBytes) this.pace();
    else if (this.paced && total <= this.options.highWaterBytes / 2) this.release();
  }

  private pace(): void {
    this.paced = true;
    this.pacedSinceMs = Date.now();
    this.metrics.counts.paced = 1;
  }

  private release(): void {
    if (this.paced) this.metrics.pacedSeconds.inc((Date.now() - this.pacedSinceMs) / 1000);
    this.paced = false;
    this.metrics.counts.paced = 0;
    const waiters = this.waiters.splice(0);
    for (const resume of waiters) resume();
  }
}
