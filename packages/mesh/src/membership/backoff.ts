/** MESH.md §11 reconnect backoff: 1 s, ×1.5 per attempt, capped at 60 s, jitter in [0.8, 1.2). */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly initialMs: number,
    private readonly factor: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const base = Math.min(this.initialMs * this.factor ** this.attempt, this.maxMs);
    this.attempt++;
    return base * (0.8 + 0.4 * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }
}
