import type { WebSocket } from 'uWebSockets.js';
import type { Identity } from '../auth/identity.js';
import type { E2ECipher } from '../protocol/e2e.js';
import { encodeEvent, encryptText, staysUncompressed } from '../protocol/outbound.js';
import type { TokenBucket } from '../protocol/rate-limiter.js';
import { signPayload } from '../protocol/signing.js';

/** Close codes this server sends (PROTOCOL.md §15). */
export const CloseCode = {
  drain: 4300,
  authFailed: 4401,
  slowConsumer: 4008,
  apiDisconnect: 4000,
  tooLarge: 1009,
  serverError: 1011,
} as const;

/** Why a session ended, for metrics and logs. */
export type CloseReason = 'client' | 'idle' | 'slow_consumer' | 'drain' | 'auth' | 'too_large' | 'api' | 'capacity';

/** What authentication needs from the upgrade request (PROTOCOL.md §1–§2). */
export interface Handshake {
  cookie: string;
  authorization: string;
  msgpack: boolean;
}

/**
 * A `/wse` socket's user data: the handshake until its token is verified, then its session.
 * uWS copies the object's own properties at upgrade, so it carries references.
 */
export interface SocketState {
  session: Session | null;
  handshake: Handshake | null;
  /** Messages that arrived before the session existed, replayed in order once it does. */
  early: Array<{ data: ArrayBuffer; isBinary: boolean }>;
  earlyBytes: number;
}

export type SessionSocket = WebSocket<SocketState>;

/** The state of one WebSocket connection, reached from `ws.getUserData().session`. */
export class Session {
  ws: SessionSocket | null = null;
  /** Set once the socket closed: every send becomes a no-op. */
  closed = false;
  closeReason: CloseReason | null = null;

  userId = '';
  cipher: E2ECipher | null = null;
  keyExchangeDone = false;
  compressionThreshold: number;

  /** Exact and glob topics this connection subscribed to. */
  readonly topics = new Set<string>();
  /** Non-null while a recovering subscribe waits for other members' rings: the updates behind it. */
  waitingUpdates: Array<Record<string, unknown>> | null = null;
  /** (topic, queue group) memberships made through the server API. */
  readonly groups = new Set<string>();
  /** Publications received from this client and not yet accepted (PROTOCOL.md §19 window). */
  inflightPublishes = 0;

  lastActivityMs: number;
  idleCloseSent = false;
  lastWarningMs = 0;
  lastLimitedMs = 0;
  /** Marks the last glob delivery this session got, so one publication reaches it once. */
  deliveryMark = 0;

  readonly stats = { received: 0, sent: 0, published: 0, bytesSent: 0 };

  constructor(
    readonly connectionId: string,
    readonly identity: Identity,
    readonly msgpack: boolean,
    readonly bucket: TokenBucket,
    readonly maxOutboundBytes: number,
    compressionThreshold: number,
    readonly openedAtMs: number,
    readonly signingKey: string | null,
  ) {
    this.compressionThreshold = compressionThreshold;
    this.lastActivityMs = openedAtMs;
  }

  /** A per-connection event: binary, `M:`/`C:`/`E:` as this connection needs (PROTOCOL.md §3.1). */
  sendEvent(event: { p?: unknown; sig?: string }): boolean {
    if (this.closed || this.ws === null) return false;
    // PROTOCOL.md §14: with a signing key configured, every type is signed.
    if (this.signingKey !== null) event.sig = signPayload(event.p, this.signingKey);
    const bytes = encodeEvent(event, this);
    return this.write(bytes, true);
  }

  /**
   * A per-connection event whose plain JSON text the caller built: sent as is where the connection
   * takes plain JSON (no E2E, msgpack, signing or compression), else encoded from `event()`.
   */
  sendEventJson(json: string, event: () => { p?: unknown; sig?: string }): boolean {
    if (this.closed || this.ws === null) return false;
    const plain = this.cipher === null && !this.msgpack && this.signingKey === null && staysUncompressed(json, this.compressionThreshold);
    // Encoded here once: the size check reads its length and uWS sends the bytes as they are.
    return plain ? this.write(Buffer.from(json), true) : this.sendEvent(event());
  }

  /** A control frame that stays plaintext text even on encrypted connections (PROTOCOL.md §3.1). */
  sendText(text: string): boolean {
    if (this.closed || this.ws === null) return false;
    return this.write(text, false);
  }

  /** A stamped publication or presence event sent to this connection alone. */
  sendPublication(frame: Buffer | string): boolean {
    if (this.closed || this.ws === null) return false;
    if (this.cipher !== null) return this.write(encryptText(frame, this.cipher), true);
    return this.write(frame, false);
  }

  /** Bytes written to this socket that the kernel has not taken yet. */
  backlog(): number {
    if (this.closed || this.ws === null) return 0;
    return this.ws.getBufferedAmount();
  }

  /** Ends the connection with a close code; the close handler does the bookkeeping. */
  end(code: number | undefined, reason: CloseReason, message = ''): void {
    if (this.closed || this.ws === null) return;
    this.closeReason ??= reason;
    this.closed = true;
    if (code === undefined) this.ws.end();
    else this.ws.end(code, message);
  }

  /** Drops the TCP connection without a close handshake (a peer that ignored our Close). */
  abort(reason: CloseReason): void {
    if (this.ws === null) return;
    this.closeReason ??= reason;
    this.closed = true;
    this.ws.close();
  }

  private write(data: Uint8Array | string, binary: boolean): boolean {
    const ws = this.ws as SessionSocket;
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    // PROTOCOL.md §6: a connection whose backlog would pass its limit is closed, never skipped.
    if (ws.getBufferedAmount() + size > this.maxOutboundBytes) {
      this.end(CloseCode.slowConsumer, 'slow_consumer', 'slow consumer');
      return false;
    }
    ws.send(data, binary);
    this.stats.sent++;
    this.stats.bytesSent += size;
    return true;
  }
}
