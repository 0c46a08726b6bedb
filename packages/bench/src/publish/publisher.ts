import { BenchError } from '../errors.js';
import { nowMicros } from '../sys/clock.js';
import type { UpgradeRequest } from '../ws/handshake.js';
import { RawWebSocket, type RawWebSocketHandler } from '../ws/raw-websocket.js';
import { PublishFrameWriter } from './publish-frame-writer.js';

export interface PublisherOptions {
  request: UpgradeRequest;
  topic: string;
  type: string;
  /** Most publications sent but not yet acknowledged (PROTOCOL.md §19 flow control). */
  window: number;
  messageBytes: number;
  readyTimeoutMs: number;
}

export interface PublishResult {
  /** Sequences 0…sent-1 were sent. */
  sent: number;
  acked: number;
  /** Acks carrying an error (e.g. PUBLISH_BACKPRESSURE): those sequences were not published. */
  refused: number;
  firstRefusal: string;
  /** Sent with a timestamp inside the measurement window. */
  windowSent: number;
  /** True when every sent publication was acknowledged before the drain deadline. */
  drained: boolean;
}

const ACK_TYPE = Buffer.from('"publish_ack"');
const ERROR_KEY = Buffer.from('"error":');

/**
 * One WebSocket connection that publishes as fast as the server accepts: at most `window`
 * publications in flight, refilled as `publish_ack`s arrive (never paced by a sleep), each batch
 * written with one socket write.
 */
export class Publisher implements RawWebSocketHandler {
  private readonly socket: RawWebSocket;
  private readonly writer: PublishFrameWriter;
  private sent = 0;
  private acked = 0;
  private refused = 0;
  private firstRefusal = '';
  private windowSent = 0;
  private windowStartUs = Infinity;
  private windowEndUs = Infinity;
  private stopAtUs = 0;
  private publishing = false;
  private fillScheduled = false;
  private readonly fillNow = (): void => this.fill();
  private ready: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private drainedWaiter: (() => void) | null = null;
  private closedWith: BenchError | null = null;

  private constructor(private readonly options: PublisherOptions) {
    this.writer = new PublishFrameWriter(options.topic, options.type, options.messageBytes);
    this.socket = new RawWebSocket(options.request, this);
  }

  /** Resolves once the server said `server_ready`. */
  static async connect(options: PublisherOptions): Promise<Publisher> {
    const publisher = new Publisher(options);
    await new Promise<void>((resolve, reject) => {
      publisher.ready = { resolve, reject };
      setTimeout(
        () => reject(new BenchError('WSE_BENCH_ERR_TIMEOUT', `publisher not ready after ${options.readyTimeoutMs} ms`)),
        options.readyTimeoutMs,
      ).unref();
    });
    publisher.ready = null;
    return publisher;
  }

  setWindow(startUs: number, endUs: number): void {
    this.windowStartUs = startUs;
    this.windowEndUs = endUs;
  }

  /** Publishes until wall time `stopAtUs`, then waits up to `drainMs` for the outstanding acks. */
  async run(stopAtUs: number, drainMs: number): Promise<PublishResult> {
    if (this.closedWith !== null) throw this.closedWith;
    this.stopAtUs = stopAtUs;
    this.publishing = true;
    this.fill();
    await new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, (stopAtUs - nowMicros()) / 1000)));
    this.publishing = false;
    const drained = await this.waitForAcks(drainMs);
    return {
      sent: this.sent,
      acked: this.acked,
      refused: this.refused,
      firstRefusal: this.firstRefusal,
      windowSent: this.windowSent,
      drained,
    };
  }

  close(): void {
    this.socket.close();
  }

  onOpen(): void {}

  onText(buf: Buffer, start: number, end: number): void {
    this.onMessage(buf, start, end);
  }

  onBinary(buf: Buffer, start: number, end: number): void {
    this.onMessage(buf, start, end);
  }

  onClose(code: number, reason: string, error: BenchError | null): void {
    this.closedWith = error ?? new BenchError('WSE_BENCH_ERR_CLOSED', `publisher closed by server: ${code} ${reason}`);
    this.publishing = false;
    this.ready?.reject(this.closedWith);
    this.drainedWaiter?.();
  }

  private onMessage(buf: Buffer, start: number, end: number): void {
    if (this.ready !== null) {
      if (buf.toString('utf8', start, end).includes('"server_ready"')) this.ready.resolve();
      return;
    }
    if (indexIn(buf, ACK_TYPE, start, end) < 0) return;
    this.acked++;
    if (indexIn(buf, ERROR_KEY, start, end) >= 0) {
      this.refused++;
      if (this.firstRefusal === '') this.firstRefusal = buf.toString('utf8', start, end);
    }
    if (this.acked === this.sent) this.drainedWaiter?.();
    if (this.publishing && !this.fillScheduled) {
      this.fillScheduled = true;
      setImmediate(this.fillNow);
    }
  }

  /** Sends one batch that tops the window up; one clock reading and one write for the batch. */
  private fill(): void {
    this.fillScheduled = false;
    const room = this.options.window - (this.sent - this.acked);
    if (!this.publishing || room <= 0) return;
    const now = nowMicros();
    if (now >= this.stopAtUs) return;
    const batch = Buffer.allocUnsafe(room * this.writer.maxFrameBytes);
    let pos = 0;
    for (let i = 0; i < room; i++) pos = this.writer.write(batch, pos, this.sent + i, now);
    this.sent += room;
    if (now >= this.windowStartUs && now < this.windowEndUs) this.windowSent += room;
    this.socket.sendFrames(batch.subarray(0, pos));
  }

  private async waitForAcks(timeoutMs: number): Promise<boolean> {
    if (this.acked >= this.sent || this.closedWith !== null) return this.acked >= this.sent;
    const done = new Promise<void>((resolve) => (this.drainedWaiter = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([done, timeout]);
    clearTimeout(timer);
    this.drainedWaiter = null;
    return this.acked >= this.sent;
  }
}

/** Position of `needle` within buf[start, end); -1 if absent. Allocates nothing. */
function indexIn(buf: Buffer, needle: Buffer, start: number, end: number): number {
  const first = needle[0]!;
  const last = end - needle.length;
  outer: for (let i = start; i <= last; i++) {
    if (buf[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) if (buf[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
