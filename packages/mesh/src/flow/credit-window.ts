/**
 * MESH.md §E.b.5, originator side: at most `maxFrames` PUBLISH frames and `maxBytes` (inner frame
 * sizes) outstanding per link; a single frame larger than the byte window may go when nothing is
 * outstanding. CREDIT(n) releases the n oldest.
 */
export class CreditWindow<T extends { size: number }> {
  bytes = 0;
  private readonly outstanding: T[] = [];

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  get frames(): number {
    return this.outstanding.length;
  }

  canSend(size: number): boolean {
    if (this.outstanding.length === 0) return true;
    return this.outstanding.length < this.maxFrames && this.bytes + size <= this.maxBytes;
  }

  add(entry: T): void {
    this.outstanding.push(entry);
    this.bytes += entry.size;
  }

  release(n: number): void {
    const k = Math.min(n, this.outstanding.length);
    for (let i = 0; i < k; i++) this.bytes -= this.outstanding[i]!.size;
    this.outstanding.splice(0, k);
  }

  /** Everything still outstanding, oldest first; empties the window (the link is gone, §E.b.7). */
  drain(): T[] {
    const all = this.outstanding.splice(0);
    this.bytes = 0;
    return all;
  }
}
