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

/** Connections the timer visits per tick; a pass over more of them spans several ticks. */
export const SESSIONS_PER_TICK = 8192;

/**
 * Watches what the worker's WebSocket connections have not yet written (DESIGN.md, flow control).
 * uWS gives no total, so connections are sampled one by one:
 * - a full pass whenever 1/8 of the per-connection limit has been fanned out since the last one.
 *   No connection can gain more than that between two passes, so one past 3/4 of its limit is a
 *   slow consumer and is closed with 4008 before uWS's own hard limit (which closes without a
 *   status) can be reached;
 * - on the timer, the next `SESSIONS_PER_TICK` connections of a pass, so a worker with 100,000
 *   connections never blocks its loop for a whole pass. While the total is above the high-water
 *   mark publishers are paced (a partial sum already over it is enough); they resume when a
 *   completed pass finds it below half. While they wait, a pass goes on slice by slice over the
 *   next loop turns instead of one slice per tick: at 100,000 connections that ends pacing within
 *   a tick of the backlog clearing, not 1.3 s (13 ticks) later.
 */
export class BacklogMonitor {
  private paced = false;
  private pacedSinceMs = 0;
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private bytesSinceSample = 0;
  private readonly sampleEveryBytes: number;
  private readonly slowMark: number;
  /** Where the timer's pass stands, and what it has summed so far. */
  private cursor: Iterator<Session> | null = null;
  private passTotal = 0;
  /** The rest of a pass, queued for the next loop turn while publishers are paced. */
  private continuation: NodeJS.Immediate | null = null;
  private readonly continuePass = (): void => {
    this.continuation = null;
    if (this.paced && this.cursor !== null) this.sampleSlice();
  };

  constructor(
    private readonly sessions: Set<Session>,
    private readonly metrics: WorkerMetrics,
    private readonly options: BacklogOptions,
  ) {
    this.sampleEveryBytes = options.maxOutboundBytes / 8;
    this.slowMark = (options.maxOutboundBytes * 3) / 4;
  }

  /** Called per fanned-out frame with its size (one add on the hot path). */
  noteFanout(bytes: number): void {
    this.bytesSinceSample += bytes;
    if (this.bytesSinceSample >= this.sampleEveryBytes) this.sample();
  }

  start(): void {
    this.timer = setInterval(() => this.sampleSlice(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.continuation !== null) clearImmediate(this.continuation);
    this.timer = null;
    this.continuation = null;
    this.cursor = null;
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

  /** A full pass over every connection at once. */
  sample(): void {
    this.bytesSinceSample = 0;
    let total = 0;
    for (const session of this.sessions) total += this.visit(session);
    this.finishPass(total);
  }

  /** The timer's step: the next slice of the current pass. */
  sampleSlice(): void {
    this.cursor ??= this.sessions.values();
    for (let visited = 0; visited < SESSIONS_PER_TICK; visited++) {
      const next = this.cursor.next();
      if (next.done === true) {
        this.finishPass(this.passTotal);
        return;
      }
      this.passTotal += this.visit(next.value);
    }
    if (!this.paced && this.passTotal > this.options.highWaterBytes) this.pace();
    if (this.paced) this.continuation ??= setImmediate(this.continuePass);
  }

  /** One connection's backlog; a slow consumer is closed and counts nothing. */
  private visit(session: Session): number {
    const backlog = session.backlog();
    if (backlog <= this.slowMark) return backlog;
    session.end(CloseCode.slowConsumer, 'slow_consumer', 'slow consumer');
    return 0;
  }

  private finishPass(total: number): void {
    this.cursor = null;
    this.passTotal = 0;
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
