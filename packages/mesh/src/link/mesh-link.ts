import type { Socket } from 'node:net';
import { FrameDecoder, FrameView, type RecordHandler } from '../frame/decoder.js';
import { encodeFrame } from '../frame/encoder.js';
import type { Hello } from '../frame/payloads.js';
import { TopicDecoder } from '../frame/topic-decoder.js';
import type { InterestSet } from '../interest/interest-set.js';
import { OutboundQueue, type QueueOwner } from './outbound-queue.js';

export type LinkRole = 'dialer' | 'acceptor';
export type LinkState = 'handshake' | 'open' | 'closed';

/** Traffic counters of one peer node (MESH metrics are labelled by peer node, never by topic). */
export interface TrafficCounters {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
}

export function newTrafficCounters(): TrafficCounters {
  return { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 };
}

/** What a link reports to the member that owns it. */
export interface LinkHost {
  onLinkFrame(link: MeshLink, view: FrameView): void;
  onLinkBadFrame(link: MeshLink, reason: string, err?: unknown): void;
  onLinkWritable(link: MeshLink): void;
  onLinkClosed(link: MeshLink, reason: string, unsent: Buffer[]): void;
}

export interface LinkLimits {
  highWaterBytes: number;
  lowWaterBytes: number;
  hardLimitBytes: number;
}

let nextLinkId = 1;

/**
 * One TCP/TLS connection to another member: the record decoder on the read side, the bounded
 * outbound queue on the write side, and the per-link state the protocol hangs on it.
 * Protocol decisions are made by the host; the link only moves bytes and reports.
 */
export class MeshLink implements RecordHandler, QueueOwner {
  readonly id = nextLinkId++;
  state: LinkState = 'handshake';
  /** The peer's HELLO once received. */
  peer: Hello | null = null;
  /** Negotiated capabilities (AND of both HELLOs). */
  caps = 0;
  version = 0;
  lastActivity = Date.now();
  /** Heartbeat ticks in a row that found no activity since the one before (§5). */
  silentTicks = 0;
  /** `lastActivity` as the previous heartbeat tick saw it. */
  activitySeenAtTick = 0;
  readPaused = false;
  rttMs = -1;
  pingSentAt = 0;
  /** The peer sent DRAIN (§11). */
  peerDraining = false;
  counters: TrafficCounters = newTrafficCounters();
  closeReason = '';
  /** What the peer asked for (§6); null until its first RESYNC or SUB: forward everything. */
  interest: InterestSet | null = null;
  /** When the next periodic RESYNC is due (§5). */
  resyncAt = 0;
  handshakeTimer: NodeJS.Timeout | null = null;
  /** The dial outcome was already given to the peer directory. */
  outcomeReported = false;
  readonly topics = new TopicDecoder();
  readonly out: OutboundQueue;
  readonly view = new FrameView();
  private readonly decoder: FrameDecoder;

  constructor(
    readonly socket: Socket,
    readonly role: LinkRole,
    /** The address dialed, or the remote socket address for accepted links. */
    readonly address: string,
    private readonly host: LinkHost,
    limits: LinkLimits,
  ) {
    this.decoder = new FrameDecoder(this);
    this.out = new OutboundQueue(socket, this, limits.highWaterBytes, limits.lowWaterBytes, limits.hardLimitBytes);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close('socket-error'));
    socket.on('close', () => this.close('socket-closed'));
  }

  get peerId(): string {
    return this.peer?.instanceId ?? '';
  }

  get nodeId(): string {
    return this.peer?.info?.nodeId ?? '';
  }

  has(cap: number): boolean {
    return (this.caps & cap) !== 0;
  }

  /** Queues one frame without a trailer; bypasses the high-water mark (callers gate MSG/PUBLISH). */
  send(type: number, flags: number, topic: Buffer | null, payload: Buffer | null): void {
    if (this.state === 'closed') return;
    this.countOut(encodeFrame(this.out, type, flags, topic, payload));
  }

  countOut(bytes: number): void {
    this.counters.framesOut++;
    this.counters.bytesOut += bytes;
  }

  /** Flushes queued frames now (used before closing on purpose). */
  flush(): void {
    this.out.flush();
  }

  pauseReading(): void {
    if (this.readPaused || this.state === 'closed') return;
    this.readPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    // §E.b.6: time spent paused is not missing activity.
    this.lastActivity = Date.now();
    if (this.state !== 'closed') this.socket.resume();
  }

  /** Writes what is queued, then ends the socket (a graceful close after SHUTDOWN or a refusal). */
  end(reason: string): void {
    if (this.state === 'closed') return;
    this.out.flush();
    this.socket.end();
    this.close(reason);
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    const unsent = this.out.close();
    if (!this.socket.writableEnded) this.socket.destroy();
    else this.socket.setTimeout(5000, () => this.socket.destroy());
    this.host.onLinkClosed(this, reason, unsent);
  }

  onRecord(buf: Buffer, start: number, end: number): boolean {
    const view = this.view;
    this.counters.framesIn++;
    if (!view.parse(buf, start, end)) {
      this.host.onLinkBadFrame(this, 'short-frame');
      this.close('bad-frame');
      return false;
    }
    try {
      this.host.onLinkFrame(this, view);
    } catch (err) {
      this.host.onLinkBadFrame(this, 'handler-error', err);
      this.close('bad-frame');
      return false;
    }
    return this.state !== 'closed';
  }

  onWritable(): void {
    this.host.onLinkWritable(this);
  }

  onOverflow(): void {
    // Closing synchronously inside an encoder call would pull the queue from under it.
    setImmediate(() => this.close('overflow'));
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastActivity = Date.now();
    this.counters.bytesIn += chunk.length;
    if (!this.decoder.push(chunk) && this.decoder.failed) {
      this.host.onLinkBadFrame(this, 'bad-length');
      this.close('bad-frame');
    }
  }
}
