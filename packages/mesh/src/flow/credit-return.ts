/**
 * MESH.md §E.b.5, receiver side: PUBLISH frames from one link finish in any order (topics wait on
 * different links), but CREDIT must release the originator's oldest frames, so only the contiguous
 * finished prefix, in arrival order, is credited. Credit is batched: sent when a quarter of the
 * window is reclaimed or `flushMs` after the first unsent credit.
 */
export class CreditReturn {
  private nextToken = 0;
  private headToken = 0;
  private readonly finished = new Set<number>();
  private unsent = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly batch: number,
    private readonly flushMs: number,
    private readonly send: (n: number) => void,
  ) {}

  /** Frames arrived and not yet credited (bounded by the originator's window). */
  get pending(): number {
    return this.nextToken - this.headToken;
  }

  arrive(): number {
    return this.nextToken++;
  }

  finish(token: number): void {
    if (token < this.headToken) return;
    this.finished.add(token);
    while (this.finished.delete(this.headToken)) {
      this.headToken++;
      this.unsent++;
    }
    if (this.unsent >= this.batch) this.flush();
    else if (this.unsent > 0 && this.timer === null) this.timer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.unsent === 0) return;
    const n = this.unsent;
    this.unsent = 0;
    this.send(n);
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
