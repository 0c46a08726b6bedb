/**
 * Where encoders write: `reserve(n)` returns a position in `buf` with n free bytes, `commit(end)`
 * marks the bytes up to `end` as written. The link's outbound queue is one; `GrowableSink` is the
 * other (scratch encoding, tests).
 */
export interface FrameSink {
  buf: Buffer;
  reserve(n: number): number;
  commit(end: number): void;
}

export class GrowableSink implements FrameSink {
  buf: Buffer;
  pos = 0;

  constructor(initial = 4096) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reserve(n: number): number {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    return this.pos;
  }

  commit(end: number): void {
    this.pos = end;
  }

  /** A copy of what was written; resets the sink. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }
}
