import { BenchError } from '../errors.js';
import { RawWebSocket, type RawWebSocketHandler } from '../ws/raw-websocket.js';
import type { UpgradeRequest } from '../ws/handshake.js';
import type { DeliveryStats } from './delivery-stats.js';
import { SequenceTracker } from './sequence-tracker.js';

export interface SubscriberListener {
  onSubscribed(subscriber: Subscriber): void;
  /** Closed before or after subscribing; `error` says why when it was not a clean close. */
  onClosed(subscriber: Subscriber, code: number, reason: string, error: BenchError | null): void;
}

const enum Phase {
  AwaitReady,
  Subscribing,
  Live,
  Closed,
}

/** PROTOCOL.md §5: what the original's load client sends. */
const CLIENT_HELLO = JSON.stringify({
  t: 'client_hello',
  p: { client_version: 'wse-bench/0.1.0', protocol_version: 1 },
});
const PONG = '{"c":"WSE","t":"PONG","p":{},"v":1}';

/**
 * One subscriber: waits for `server_ready`, subscribes to its topic (PROTOCOL.md §7), then counts
 * every publication, checking the publisher's sequence and the server's offset for gaps and
 * duplicates. Control messages are parsed as JSON; publications only by byte scan.
 */
export class Subscriber implements RawWebSocketHandler {
  /** The publisher's sequence: every run starts at 0, so a missing first message is a gap. */
  readonly seq = new SequenceTracker(0);
  /** The server's offset: the first one seen is the baseline. */
  readonly offsets = new SequenceTracker(null);
  delivered = 0;
  wasSubscribed = false;
  closeCode = 0;
  lastError = '';
  private phase = Phase.AwaitReady;
  private readonly socket: RawWebSocket;

  constructor(
    request: UpgradeRequest,
    readonly topic: string,
    private readonly stats: DeliveryStats,
    private readonly listener: SubscriberListener,
  ) {
    this.socket = new RawWebSocket(request, this, stats);
  }

  get isLive(): boolean {
    return this.phase === Phase.Live;
  }

  onOpen(): void {}

  onText(buf: Buffer, start: number, end: number): void {
    if (this.phase !== Phase.Live) {
      this.onSessionMessage(buf, start, end);
      return;
    }
    const scanner = this.stats.scanner;
    if (!scanner.scan(buf, start, end)) {
      this.onOtherText(buf, start, end);
      return;
    }
    this.delivered++;
    if (scanner.seq >= 0) this.seq.observe(scanner.seq);
    this.offsets.observe(scanner.offset);
    this.stats.recordDelivery(end - start, scanner.ts);
  }

  onBinary(buf: Buffer, start: number, end: number): void {
    if (this.phase !== Phase.Live) this.onSessionMessage(buf, start, end);
    else this.stats.otherFrames++;
  }

  onClose(code: number, reason: string, error: BenchError | null): void {
    this.phase = Phase.Closed;
    this.closeCode = code;
    if (error !== null && this.lastError === '') this.lastError = error.message;
    this.listener.onClosed(this, code, reason, error);
  }

  close(): void {
    this.socket.close();
  }

  private onOtherText(buf: Buffer, start: number, end: number): void {
    this.stats.otherFrames++;
    // PROTOCOL.md §6: answer the server's ping so an idle timeout never closes a listener.
    if (buf.toString('latin1', start, Math.min(end, start + 40)).includes('"t":"ping"')) {
      this.socket.sendText(PONG);
    }
  }

  /** Before the subscription is confirmed: server_ready, the subscribe reply, or an error. */
  private onSessionMessage(buf: Buffer, start: number, end: number): void {
    const message = parseJsonObject(buf, start, end);
    const type = message?.['t'];
    const payload = (message?.['p'] ?? {}) as Record<string, unknown>;
    if (type === 'server_ready' && this.phase === Phase.AwaitReady) {
      this.phase = Phase.Subscribing;
      this.socket.sendText(CLIENT_HELLO);
      this.socket.sendText(
        JSON.stringify({ t: 'subscription_update', p: { action: 'subscribe', topics: [this.topic] } }),
      );
    } else if (type === 'subscription_update' && this.phase === Phase.Subscribing) {
      this.onSubscribeReply(payload);
    } else if (type === 'error') {
      this.lastError = `${String(payload['code'])}: ${String(payload['message'])}`;
    }
  }

  private onSubscribeReply(payload: Record<string, unknown>): void {
    const topics = payload['success_topics'];
    if (Array.isArray(topics) && topics.includes(this.topic)) {
      this.phase = Phase.Live;
      this.wasSubscribed = true;
      this.listener.onSubscribed(this);
      return;
    }
    this.lastError = `subscribe refused: ${JSON.stringify(payload['failed_topics'] ?? payload)}`;
    this.socket.close();
  }
}

/** A JSON object from a text or plain-JSON binary frame; null for anything else (C:/M: frames). */
function parseJsonObject(buf: Buffer, start: number, end: number): Record<string, unknown> | null {
  if (end - start < 2 || buf[start] !== 0x7b) return null;
  try {
    const value: unknown = JSON.parse(buf.toString('utf8', start, end));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
