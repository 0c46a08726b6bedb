import { connect, type Socket } from 'node:net';
import { BenchError } from '../errors.js';
import { encodeClientFrame } from './client-frame.js';
import {
  FrameDecoder,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_PONG,
  type FrameErrorCode,
  type FrameSink,
} from './frame-decoder.js';
import { UpgradeResponseReader, buildUpgradeRequest, type UpgradeRequest } from './handshake.js';

export interface RawWebSocketHandler {
  onOpen(): void;
  onText(buf: Buffer, start: number, end: number): void;
  onBinary(buf: Buffer, start: number, end: number): void;
  /** Called exactly once. `code` is the peer's close code, 1005 without one, 1006 when none came. */
  onClose(code: number, reason: string, error: BenchError | null): void;
}

/** Called before each read is decoded: lets the owner take one clock reading per read, not per frame. */
export interface ReadObserver {
  onRead(bytes: number): void;
}

/**
 * Every socket of a process reads into this one buffer (net `onread`): reads allocate nothing, and
 * frames are decoded synchronously before the next read can overwrite it.
 */
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);
const CLOSE_GRACE_MS = 2000;

const enum Phase {
  Upgrading,
  Open,
  Closing,
  Closed,
}

/** A WebSocket client over a raw TCP socket: the minimal client the benchmark needs, nothing more. */
export class RawWebSocket implements FrameSink {
  private readonly socket: Socket;
  private readonly decoder: FrameDecoder;
  private readonly upgrade: UpgradeResponseReader;
  private phase = Phase.Upgrading;
  private closeCode = 1006;
  private closeReason = '';
  private failure: BenchError | null = null;

  constructor(
    request: UpgradeRequest,
    private readonly handler: RawWebSocketHandler,
    private readonly observer: ReadObserver | null = null,
  ) {
    const { bytes, key } = buildUpgradeRequest(request);
    this.upgrade = new UpgradeResponseReader(key);
    this.decoder = new FrameDecoder(this);
    this.socket = connect({
      host: request.host,
      port: request.port,
      ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }),
      noDelay: true,
      onread: {
        buffer: sharedReadBuffer,
        callback: (bytesRead: number) => this.onChunk(bytesRead),
      },
    });
    this.socket.write(bytes);
    this.socket.on('error', (error) => this.fail('WSE_BENCH_ERR_CLOSED', error.message, error));
    this.socket.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return this.phase === Phase.Open;
  }

  /** Bytes queued in the socket that the kernel has not taken yet. */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  sendText(payload: Buffer | string): void {
    if (this.phase === Phase.Open) this.socket.write(encodeClientFrame(0x1, payload));
  }

  /**
   * Already-framed (masked) bytes, e.g. a batch of frames built by the caller. False when the
   * socket's buffer is full: wait for `onDrain` before writing more.
   */
  sendFrames(frames: Buffer): boolean {
    return this.phase === Phase.Open && this.socket.write(frames);
  }

  /** Calls `listener` each time the socket's write buffer empties. */
  onDrain(listener: () => void): void {
    this.socket.on('drain', listener);
  }

  /** Close handshake (RFC 6455 §5.5.1); the socket is destroyed if the peer does not finish it. */
  close(code = 1000): void {
    if (this.phase === Phase.Closed) return;
    if (this.phase === Phase.Open) {
      const payload = Buffer.alloc(2);
      payload.writeUInt16BE(code, 0);
      this.socket.write(encodeClientFrame(OPCODE_CLOSE, payload));
    }
    this.phase = Phase.Closing;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  onText(buf: Buffer, start: number, end: number): void {
    if (this.phase === Phase.Open) this.handler.onText(buf, start, end);
  }

  onBinary(buf: Buffer, start: number, end: number): void {
    if (this.phase === Phase.Open) this.handler.onBinary(buf, start, end);
  }

  onControl(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === OPCODE_PING) {
      if (this.phase === Phase.Open) {
        this.socket.write(encodeClientFrame(OPCODE_PONG, Buffer.from(buf.subarray(start, end))));
      }
    } else if (opcode === OPCODE_CLOSE) {
      this.closeCode = end - start >= 2 ? buf.readUInt16BE(start) : 1005;
      this.closeReason = end - start > 2 ? buf.toString('utf8', start + 2, end) : '';
      this.close(this.closeCode === 1005 ? 1000 : this.closeCode);
    }
  }

  onFrameError(code: FrameErrorCode): void {
    this.fail('WSE_BENCH_ERR_CLOSED', `bad frame from server: ${code}`);
  }

  private onChunk(bytesRead: number): boolean {
    if (this.phase === Phase.Closed) return true;
    this.observer?.onRead(bytesRead);
    if (this.phase !== Phase.Upgrading) {
      this.decoder.push(sharedReadBuffer, 0, bytesRead);
      return true;
    }
    const outcome = this.upgrade.push(sharedReadBuffer, 0, bytesRead);
    if (outcome.kind === 'rejected') {
      this.fail('WSE_BENCH_ERR_UPGRADE', `upgrade refused: ${outcome.reason}`);
    } else if (outcome.kind === 'accepted') {
      this.phase = Phase.Open;
      this.handler.onOpen();
      this.decoder.push(sharedReadBuffer, outcome.bodyStart, bytesRead);
    }
    return true;
  }

  private fail(code: BenchError['code'], message: string, cause?: unknown): void {
    if (this.failure === null && this.phase !== Phase.Closed) {
      this.failure = new BenchError(code, message, { cause });
    }
    this.socket.destroy();
  }

  private finish(): void {
    if (this.phase === Phase.Closed) return;
    this.phase = Phase.Closed;
    this.handler.onClose(this.closeCode, this.closeReason, this.failure);
  }
}
