import { cpuUsage } from 'node:process';
import { BenchError } from '../errors.js';
import { nowMicros } from '../sys/clock.js';
import type { UpgradeRequest } from '../ws/handshake.js';
import { DeliveryStats } from './delivery-stats.js';
import type { HistogramSnapshot } from './latency-histogram.js';
import { Subscriber, type SubscriberListener } from './subscriber.js';

export interface ConnectSpec {
  request: UpgradeRequest;
  topics: string[];
  /** Index of this process's first subscriber among all, so topics spread evenly over processes. */
  offset: number;
  count: number;
  /** Subscribers opened at once; the next batch starts when this one is subscribed. */
  batch: number;
  batchTimeoutMs: number;
}

export interface PoolReport {
  subscribers: number;
  live: number;
  connectFailures: number;
  firstError: string;
  /** Close codes of subscribers that closed after subscribing, with counts. */
  closes: Record<string, number>;
  deliveries: number;
  bytes: number;
  windowDeliveries: number;
  windowBytes: number;
  otherFrames: number;
  seqGaps: number;
  seqDuplicates: number;
  offsetGaps: number;
  offsetDuplicates: number;
  /** Lowest last sequence over live subscribers (-1 if any has none). */
  minLastSeq: number;
  perTopic: Record<string, { subscribers: number; deliveries: number }>;
  /** CPU time (µs) this process used inside the window, and the window's wall length (µs). */
  cpuMicros: number;
  cpuWallMicros: number;
  /** This process's CPU time since it started (µs), and when the report was taken (µs). */
  cpuTotalMicros: number;
  reportedAtMicros: number;
  latency: HistogramSnapshot;
}

const SETTLE_POLL_MS = 10;
const MAX_TIMER_MS = 0x7fffffff;

/** The subscribers of one load process, opened in batches, counted together. */
export class SubscriberPool implements SubscriberListener {
  readonly stats = new DeliveryStats();
  private subscribers: Subscriber[] = [];
  private readonly closes = new Map<number, number>();
  private connectFailures = 0;
  private firstError = '';
  private unsettled = 0;
  private batchSettled: (() => void) | null = null;
  private open = 0;
  private allClosed: (() => void) | null = null;
  private closing = false;
  private cpuAtStart: NodeJS.CpuUsage | null = null;
  private cpuStartedAtUs = 0;
  private windowEndUs = 0;
  private readonly windowTimers: NodeJS.Timeout[] = [];
  private cpuMicros = 0;
  private cpuWallMicros = 0;

  async connect(spec: ConnectSpec): Promise<void> {
    this.closing = false;
    for (let opened = 0; opened < spec.count; ) {
      const size = Math.min(spec.batch, spec.count - opened);
      await this.openBatch(spec, opened, size);
      opened += size;
    }
  }

  /** Measures window-local CPU and tells the counters when the measurement window runs. */
  setWindow(startUs: number, endUs: number): void {
    this.stats.setWindow(startUs, endUs);
    this.clearWindowTimers();
    this.cpuAtStart = null;
    this.cpuMicros = 0;
    this.cpuWallMicros = 0;
    this.windowEndUs = endUs;
    atMicros(this.windowTimers, startUs, () => {
      this.cpuAtStart = cpuUsage();
      this.cpuStartedAtUs = nowMicros();
    });
    atMicros(this.windowTimers, endUs, () => this.endCpuWindow());
  }

  /** Window CPU from the start edge to now; the wall time is measured too, as either edge may run late. */
  private endCpuWindow(): void {
    if (this.cpuAtStart === null || this.cpuWallMicros > 0) return;
    const used = cpuUsage(this.cpuAtStart);
    this.cpuMicros = used.user + used.system;
    this.cpuWallMicros = nowMicros() - this.cpuStartedAtUs;
  }

  /**
   * Resolves when every live subscriber has seen `lastSeq`, when deliveries stop arriving for
   * `quietMs`, or at `timeoutMs`: whichever comes first. The report then says which it was.
   */
  async settle(lastSeq: number, quietMs: number, timeoutMs: number): Promise<void> {
    await this.waitSettled(lastSeq, quietMs, timeoutMs);
    // The coordinator settles only once the window has ended by its own clock: a window still open
    // here is open only by the skew between the two processes' clocks, so it ends now.
    this.endCpuWindow();
  }

  private async waitSettled(lastSeq: number, quietMs: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastCount = -1;
    let quietSince = Date.now();
    while (Date.now() < deadline && this.minLastSeq() < lastSeq) {
      if (this.stats.deliveries !== lastCount) {
        lastCount = this.stats.deliveries;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) {
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    }
  }

  report(): PoolReport {
    // A loaded loop can take the report in the same poll phase as the settle, before the end
    // timer's turn: the window CPU would read 0. An edge that has passed is taken now.
    if (this.windowEndUs > 0 && nowMicros() >= this.windowEndUs) this.endCpuWindow();
    const perTopic: PoolReport['perTopic'] = {};
    let seqGaps = 0, seqDuplicates = 0, offsetGaps = 0, offsetDuplicates = 0, live = 0;
    for (const s of this.subscribers) {
      const topic = (perTopic[s.topic] ??= { subscribers: 0, deliveries: 0 });
      topic.subscribers++;
      topic.deliveries += s.delivered;
      seqGaps += s.seq.gaps;
      seqDuplicates += s.seq.duplicates;
      offsetGaps += s.offsets.gaps;
      offsetDuplicates += s.offsets.duplicates;
      if (s.isLive) live++;
    }
    const { stats } = this;
    return {
      subscribers: this.subscribers.length,
      live,
      connectFailures: this.connectFailures,
      firstError: this.firstError,
      closes: Object.fromEntries(this.closes),
      deliveries: stats.deliveries,
      bytes: stats.bytes,
      windowDeliveries: stats.windowDeliveries,
      windowBytes: stats.windowBytes,
      otherFrames: stats.otherFrames,
      seqGaps,
      seqDuplicates,
      offsetGaps,
      offsetDuplicates,
      minLastSeq: this.minLastSeq(),
      perTopic,
      cpuMicros: this.cpuMicros,
      cpuWallMicros: this.cpuWallMicros,
      cpuTotalMicros: cpuTotal(),
      reportedAtMicros: nowMicros(),
      latency: stats.latency.snapshot(),
    };
  }

  /** Closes every subscriber (close handshake, then destroy after a grace) and resets the counters. */
  async closeAll(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.open > 0) {
      const closed = new Promise<void>((resolve) => (this.allClosed = resolve));
      for (const s of this.subscribers) s.close();
      await withTimeout(closed, timeoutMs);
    }
    this.allClosed = null;
    this.clearWindowTimers();
    this.subscribers = [];
    this.closes.clear();
    this.connectFailures = 0;
    this.firstError = '';
    this.cpuAtStart = null;
    this.windowEndUs = 0;
    this.cpuMicros = 0;
    this.cpuWallMicros = 0;
    this.stats.reset();
  }

  onSubscribed(): void {
    this.settleOne();
  }

  onClosed(subscriber: Subscriber, code: number, _reason: string, error: BenchError | null): void {
    this.open--;
    if (this.open === 0) this.allClosed?.();
    if (subscriber.wasSubscribed) {
      if (!this.closing) this.closes.set(code, (this.closes.get(code) ?? 0) + 1);
      return;
    }
    this.connectFailures++;
    if (this.firstError === '') this.firstError = subscriber.lastError || error?.message || `closed ${code}`;
    this.settleOne();
  }

  private async openBatch(spec: ConnectSpec, first: number, size: number): Promise<void> {
    this.unsettled = size;
    const done = new Promise<void>((resolve) => (this.batchSettled = resolve));
    for (let i = 0; i < size; i++) {
      const topic = spec.topics[(spec.offset + first + i) % spec.topics.length]!;
      this.subscribers.push(new Subscriber(spec.request, topic, this.stats, this));
      this.open++;
    }
    const inTime = await withTimeout(done, spec.batchTimeoutMs);
    this.batchSettled = null;
    if (!inTime) {
      throw new BenchError('WSE_BENCH_ERR_TIMEOUT', `subscribers not ready after ${spec.batchTimeoutMs} ms`);
    }
  }

  private clearWindowTimers(): void {
    for (const timer of this.windowTimers.splice(0)) clearTimeout(timer);
  }

  private settleOne(): void {
    if (--this.unsettled === 0) this.batchSettled?.();
  }

  private minLastSeq(): number {
    let min = Infinity;
    for (const s of this.subscribers) {
      if (!s.isLive) continue;
      const last = s.seq.last;
      if (last < min) min = last;
    }
    return min === Infinity ? -1 : min;
  }
}

/** Runs `action` at wall time `us`; a time beyond a timer's range (an open window) never comes. */
function atMicros(timers: NodeJS.Timeout[], us: number, action: () => void): void {
  const ms = Math.max(0, (us - nowMicros()) / 1000);
  if (ms < MAX_TIMER_MS) timers.push(setTimeout(action, ms));
}

function cpuTotal(): number {
  const used = cpuUsage();
  return used.user + used.system;
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([promise.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}
