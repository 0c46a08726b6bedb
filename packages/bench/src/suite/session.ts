import type { BenchError } from '../errors.js';
import { nowMicros } from '../sys/clock.js';
import type { UpgradeRequest } from '../ws/handshake.js';
import { RawWebSocket, type RawWebSocketHandler } from '../ws/raw-websocket.js';

/** PROTOCOL.md §5 and §6: what the original's load client sends. */
const CLIENT_HELLO = '{"t":"client_hello","p":{"client_version":"wse-bench/0.1.0","protocol_version":1}}';
const PONG_REPLY = '{"c":"WSE","t":"PONG","p":{},"v":1}';
/** PROTOCOL.md §4: `ping` and `PONG` begin `{"c":"WSE","t":"`, so the type sits in the first 25 bytes. */
const TYPE_SNIFF_BYTES = 25;

export interface SessionListener {
  onReady?(session: Session): void;
  onPong?(session: Session, rttMicros: number): void;
  onClosed?(session: Session): void;
}

/**
 * One client connection of the suite: upgrade, `server_ready`, `client_hello`; then application
 * pings (PROTOCOL.md §6) with their round trip, and raw frame writes for the throughput tests.
 * Times are wall-clock microseconds.
 */
export class Session implements RawWebSocketHandler {
  readonly startedUs = nowMicros();
  upgradedUs = 0;
  readyUs = 0;
  closed = false;
  closeCode = 0;
  error = '';
  pings = 0;
  pongs = 0;
  private pingSentUs = 0;
  private readonly socket: RawWebSocket;

  constructor(request: UpgradeRequest, private readonly listener: SessionListener = {}) {
    this.socket = new RawWebSocket(request, this);
  }

  get isReady(): boolean {
    return this.readyUs > 0 && !this.closed;
  }

  /** One application ping; its round trip is reported to `onPong` when the PONG arrives. */
  ping(): void {
    this.pings++;
    this.pingSentUs = nowMicros();
    this.socket.sendText(`{"t":"ping","p":{"client_timestamp":${Math.floor(this.pingSentUs / 1000)}}}`);
  }

  sendFrames(frames: Buffer): boolean {
    return this.socket.sendFrames(frames);
  }

  onDrain(listener: () => void): void {
    this.socket.onDrain(listener);
  }

  close(): void {
    this.socket.close();
  }

  onOpen(): void {
    this.upgradedUs = nowMicros();
  }

  onText(buf: Buffer, start: number, end: number): void {
    const head = buf.toString('latin1', start, Math.min(end, start + TYPE_SNIFF_BYTES));
    if (this.readyUs === 0) {
      if (!buf.toString('utf8', start, end).includes('"server_ready"')) return;
      this.readyUs = nowMicros();
      this.socket.sendText(CLIENT_HELLO);
      this.listener.onReady?.(this);
    } else if (head.includes('"t":"PONG"')) {
      this.pongs++;
      this.listener.onPong?.(this, nowMicros() - this.pingSentUs);
    } else if (head.includes('"t":"ping"')) {
      this.socket.sendText(PONG_REPLY);
    }
  }

  onBinary(): void {}

  onClose(code: number, reason: string, error: BenchError | null): void {
    this.closed = true;
    this.closeCode = code;
    this.error ||= error?.message ?? (reason === '' ? `closed ${code}` : `closed ${code} ${reason}`);
    this.listener.onClosed?.(this);
  }
}
