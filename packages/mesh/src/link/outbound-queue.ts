import type { FrameSink } from '../frame/sink.js';

/** MESH.md §11 write batching: records are appended to 64 KiB chunks and written a chunk at a time. */
export const CHUNK_SIZE = 64 * 1024;
const POOL_MAX = 128;
const pool: Buffer[] = [];

/** Chunks waiting in the shared pool (a gauge). */
export function pooledChunks(): number {
  return pool.length;
}

class Chunk {
  start = 0;
  pos = 0;
  inflight = 0;
  retired = false;
  constructor(readonly buf: Buffer) {}
}

interface InflightWrite {
  chunk: Chunk;
  start: number;
  end: number;
}

export interface QueueOwner {
  /** The queue fell below its low-water mark after having reached the high-water mark. */
  onWritable(): void;
  /** Unwritten bytes passed the hard limit: the peer does not read; the link must close. */
  onOverflow(): void;
}

export interface WritableSocket {
  write(data: Buffer, cb: (err?: Error | null) => void): boolean;
}

let dirty: OutboundQueue[] = [];
let flushScheduled = false;

/**
 * Writes every link's queued frames now instead of at the end of the loop turn. A worker calls it
 * before its own WebSocket fan-out, so MSG, PUBACK and CREDIT frames reach peers without waiting
 * behind writes to thousands of client sockets (the publish round trip of a remote owner).
 */
export function flushAll(): void {
  flushScheduled = false;
  const list = dirty;
  dirty = [];
  for (let i = 0; i < list.length; i++) list[i]!.flush();
}

/**
 * A link's outbound buffer (MESH.md §E.b.2): bounded in bytes, with a high-water mark above which
 * the link is `full` (MSG/PUBLISH wait) and a low-water mark below which it accepts them again.
 * Bytes count as queued until the socket reports them written. Every record is written whole into
 * one chunk, so unsent bytes can be parsed back into frames for the dead-letter queue.
 */
export class OutboundQueue implements FrameSink {
  buf: Buffer;
  queuedBytes = 0;
  full = false;
  closed = false;
  private cur: Chunk;
  private readonly inflight: InflightWrite[] = [];
  private scheduled = false;
  private readonly onWriteDone: (err?: Error | null) => void;

  constructor(
    private readonly socket: WritableSocket,
    private readonly owner: QueueOwner,
    private readonly highWater: number,
    private readonly lowWater: number,
    private readonly hardLimit: number,
  ) {
    this.cur = new Chunk(takeBuffer(CHUNK_SIZE));
    this.buf = this.cur.buf;
    this.onWriteDone = (err) => this.writeDone(err);
  }

  /** Where the next record goes in `buf` (the last record ends here). */
  get end(): number {
    return this.cur.pos;
  }

  reserve(n: number): number {
    const cur = this.cur;
    if (cur.pos + n <= cur.buf.length) return cur.pos;
    this.flush();
    cur.retired = true;
    if (cur.inflight === 0) releaseBuffer(cur.buf);
    this.cur = new Chunk(takeBuffer(Math.max(n, CHUNK_SIZE)));
    this.buf = this.cur.buf;
    return 0;
  }

  commit(end: number): void {
    this.queuedBytes += end - this.cur.pos;
    this.cur.pos = end;
    if (this.queuedBytes >= this.highWater) {
      this.full = true;
      if (this.queuedBytes >= this.hardLimit) this.owner.onOverflow();
    }
    if (!this.scheduled) {
      this.scheduled = true;
      dirty.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flushAll);
      }
    }
  }

  flush(): void {
    this.scheduled = false;
    const cur = this.cur;
    if (this.closed || cur.pos === cur.start) return;
    const start = cur.start;
    cur.start = cur.pos;
    cur.inflight++;
    this.inflight.push({ chunk: cur, start, end: cur.pos });
    this.socket.write(cur.buf.subarray(start, cur.pos), this.onWriteDone);
  }

  private writeDone(err?: Error | null): void {
    if (this.closed || err) return;
    const w = this.inflight.shift();
    if (w === undefined) return;
    this.queuedBytes -= w.end - w.start;
    const chunk = w.chunk;
    if (--chunk.inflight === 0 && chunk.retired) releaseBuffer(chunk.buf);
    if (this.full && this.queuedBytes < this.lowWater) {
      this.full = false;
      this.owner.onWritable();
    }
  }

  /** Closes the queue and returns every byte range never reported written, oldest first. */
  close(): Buffer[] {
    if (this.closed) return [];
    this.closed = true;
    const unsent = this.inflight.map((w) => w.chunk.buf.subarray(w.start, w.end));
    if (this.cur.pos > this.cur.start) unsent.push(this.cur.buf.subarray(this.cur.start, this.cur.pos));
    this.inflight.length = 0;
    this.queuedBytes = 0;
    return unsent;
  }
}

function takeBuffer(size: number): Buffer {
  if (size === CHUNK_SIZE && pool.length > 0) return pool.pop()!;
  return Buffer.allocUnsafeSlow(size);
}

function releaseBuffer(buf: Buffer): void {
  if (buf.length === CHUNK_SIZE && pool.length < POOL_MAX) pool.push(buf);
}
