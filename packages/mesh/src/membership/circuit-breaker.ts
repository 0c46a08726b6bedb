export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerSettings {
  threshold: number;
  openMs: number;
  probes: number;
}

/**
 * MESH.md §11 per-peer circuit breaker: `threshold` consecutive failures open it for `openMs`;
 * then half-open with at most `probes` attempts in flight; `probes` successes close it; any
 * failure reopens it.
 */
export class CircuitBreaker {
  state: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probesInFlight = 0;
  private successes = 0;

  constructor(private readonly s: BreakerSettings) {}

  /** Whether an attempt may start now; counts it as a probe when half-open. */
  tryAttempt(nowMs: number): boolean {
    if (this.state === 'open') {
      if (nowMs - this.openedAt < this.s.openMs) return false;
      this.state = 'half-open';
      this.probesInFlight = 0;
      this.successes = 0;
    }
    if (this.state === 'half-open') {
      if (this.probesInFlight >= this.s.probes) return false;
      this.probesInFlight++;
    }
    return true;
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  waitMs(nowMs: number): number {
    return this.state === 'open' ? Math.max(0, this.s.openMs - (nowMs - this.openedAt)) : 0;
  }

  onSuccess(): void {
    if (this.state === 'half-open') {
      this.probesInFlight--;
      if (++this.successes >= this.s.probes) this.state = 'closed';
    }
    if (this.state === 'closed') this.failures = 0;
  }

  onFailure(nowMs: number): void {
    if (this.state === 'half-open' || ++this.failures >= this.s.threshold) {
      this.state = 'open';
      this.openedAt = nowMs;
      this.failures = 0;
    }
  }
}
