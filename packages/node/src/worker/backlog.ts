import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { CloseCode, type Session } from './session.js';

export interface BacklogOptions {
  /** Worker-wide unwritten bytes above which publishers are paced. */
  highWaterBytes: number;
  /** Per-connection limit (PROTOCOL.md §6). */
  maxOutboundBytes: number;
  intervalMs: number;
  /** Told when pacing starts (true) and ends (false): the mesh stops reading its links meanwhile. */
  onPacingChange?: (paced: boolean) => void;
}

/**
 * Watches what the worker's WebSocket connections have not yet written (DESIGN.md, flow control).
 * uWS gives no total, so every connection is sampled: O(connections) per sample, on a timer and
 * whenever 1/8 of the per-connection limit has been fanned out since the last sample. No
 * connection can gain more than that between two samples, so:
 * - a connection past 3/4 of its limit is a slow consumer and is closed with 4008 before uWS's own
 *   hard limit (which closes without a status) can be reached;
 * - while the total is above the high-water mark, publishers are paced; they resume below half.
 */
export class BacklogMonitor {
  private paced = false;
  private pacedSinceMs = 0;
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private bytesSinceSample = 0;
  private readonly sampleEveryBytes: number;

  constructor(
    private readonly sessions: Set<Session>,
    private readonly metrics: WorkerMetrics,
    private readonly options: BacklogOptions,
  ) {
    this.sampleEveryBytes = options.maxOutboundBytes / 8;
  }

  /** Called per fanned-out frame with its size (one add on the hot path). */
  noteFanout(bytes: number): void {
    this.bytesSinceSample += bytes;
    if (this.bytesSinceSample >= this.sampleEveryBytes) this.sample();
  }

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
    this.bytesSinceSample = 0;
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
    this.options.onPacingChange?.(true);
  }

  private release(): void {
    if (this.paced) {
      this.metrics.pacedSeconds.inc((Date.now() - this.pacedSinceMs) / 1000);
      this.options.onPacingChange?.(false);
    }
    this.paced = false;
    this.metrics.counts.paced = 0;
    const waiters = this.waiters.splice(0);
    for (const resume of waiters) resume();
  }
}
