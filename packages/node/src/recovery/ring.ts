import type { PinnedBytes } from './pinned-bytes.js';

/**
 * One (topic, epoch) history (PROTOCOL.md §8): a power-of-two array of slots indexed by offset.
 * The window is [tail, head); offsets inside it whose slot is empty are holes (a jump over missing
 * offsets, e.g. a MSG that arrived over the mesh after a gap), and a range with a hole cannot be
 * replayed.
 */
export class RecoveryRing {
  readonly epoch: number;
  readonly size: number;
  /** Next offset (one past the newest held). */
  head = 0;
  /** Oldest offset held; equals head when the ring is empty. */
  tail = 0;
  /** Last append, stored or not: the store's LRU and TTL order. */
  lastWriteMs: number;
  /** Messages pushed out by newer ones, cumulative. */
  evicted = 0;
  private started = false;
  private readonly slots: (Buffer | undefined)[];
  private readonly offsets: Float64Array;

  constructor(
    epoch: number,
    slots: number,
    nowMs: number,
    /** The store's count of what its rings keep alive; this ring holds and releases its messages there. */
    private readonly pinned: PinnedBytes,
  ) {
    this.epoch = epoch;
    this.size = roundUpPowerOfTwo(slots);
    this.slots = new Array<Buffer | undefined>(this.size).fill(undefined);
    this.offsets = new Float64Array(this.size).fill(-1);
    this.lastWriteMs = nowMs;
  }

  /**
   * Store the message at `offset`. The first message sets the base; an offset older than the tail
   * or already held is ignored (returns false); a jump past head evicts what falls out of the window.
   */
  append(offset: number, data: Buffer, nowMs: number): boolean {
    this.lastWriteMs = nowMs;
    if (!this.started) {
      this.started = true;
      this.tail = this.head = offset;
    }
    if (offset < this.tail || this.has(offset)) return false;
    if (offset >= this.head) {
      this.evictBefore(offset + 1 - this.size);
      this.head = offset + 1;
    }
    const i = offset % this.size;
    this.slots[i] = data;
    this.offsets[i] = offset;
    this.pinned.hold(data);
    // The tail names the oldest message actually held: holes at the front are skipped.
    while (this.offsets[this.tail % this.size] !== this.tail) this.tail++;
    return true;
  }

  /** Holds a message, or was positioned: its head is a real offset of the epoch. */
  get positioned(): boolean {
    return this.started;
  }

  /** An empty ring that knows where its epoch stands: `offset` is the next to come. */
  positionAt(offset: number): void {
    if (this.started) return;
    this.started = true;
    this.tail = this.head = offset;
  }

  /**
   * Store the message just before the tail (a range fetched from another member, newest first),
   * while the window still has room for it; false otherwise.
   */
  prepend(offset: number, data: Buffer): boolean {
    if (!this.started || offset !== this.tail - 1 || this.head - offset > this.size) return false;
    const i = offset % this.size;
    this.slots[i] = data;
    this.offsets[i] = offset;
    this.pinned.hold(data);
    this.tail = offset;
    return true;
  }

  has(offset: number): boolean {
    return offset >= this.tail && offset < this.head && this.offsets[offset % this.size] === offset;
  }

  /** Messages `from` … head−1 in order, or null if any of them is missing. */
  range(from: number): Buffer[] | null {
    if (from < this.tail) return null;
    const out: Buffer[] = [];
    for (let o = from; o < this.head; o++) {
      const i = o % this.size;
      if (this.offsets[i] !== o) return null;
      out.push(this.slots[i]!);
    }
    return out;
  }

  /** Lets go of every message (the ring is being evicted). */
  clear(): void {
    for (let i = 0; i < this.size; i++) {
      const data = this.slots[i];
      if (data !== undefined) this.pinned.release(data);
    }
    this.slots.fill(undefined);
    this.offsets.fill(-1);
    this.tail = this.head;
  }

  private evictBefore(newTail: number): void {
    if (newTail <= this.tail) return;
    const stop = Math.min(newTail, this.tail + this.size);
    for (let o = this.tail; o < stop; o++) this.drop(o);
    this.tail = newTail;
  }

  private drop(offset: number): void {
    const i = offset % this.size;
    if (this.offsets[i] !== offset) return;
    this.pinned.release(this.slots[i]!);
    this.slots[i] = undefined;
    this.offsets[i] = -1;
    this.evicted++;
  }
}

export function roundUpPowerOfTwo(n: number): number {
  let size = 1;
  while (size < n) size *= 2;
  return size;
}
