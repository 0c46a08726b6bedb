/**
 * Per-connection token bucket for inbound application messages (PROTOCOL.md §12). The caller decides
 * which types are exempt (`ping`, `PONG`, `client_hello`) and sends the frames; this class keeps the
 * numbers and the once-per-second throttles for `rate_limit_warning` and `RATE_LIMITED`.
 */
export type TakeResult = 'ok' | 'warn' | 'limited';

/** §12: warn below 20 % of capacity. */
const WARN_FRACTION = 0.2;
const NOTICE_INTERVAL_MS = 1000;

export class TokenBucket {
  readonly capacity: number;
  readonly refillPerSecond: number;
  private available: number;
  private lastRefillMs = Number.NaN;
  private lastWarningMs = Number.NEGATIVE_INFINITY;
  private lastLimitedMs = Number.NEGATIVE_INFINITY;

  constructor(capacity: number, refillPerSecond: number) {
    this.capacity = capacity;
    this.refillPerSecond = refillPerSecond;
    this.available = capacity;
  }

  /** Tokens left after the last take (fractional; frames truncate). */
  get tokens(): number {
    return this.available;
  }

  /** One message: 'limited' = discard it (no token taken); 'warn' = accepted, below 20 %. */
  take(nowMs: number): TakeResult {
    this.refill(nowMs);
    if (this.available < 1) return 'limited';
    this.available -= 1;
    return this.available < this.capacity * WARN_FRACTION ? 'warn' : 'ok';
  }

  /** True at most once per second: time to send `rate_limit_warning`. */
  warningDue(nowMs: number): boolean {
    if (nowMs - this.lastWarningMs < NOTICE_INTERVAL_MS) return false;
    this.lastWarningMs = nowMs;
    return true;
  }

  /** True at most once per second: time to send the `RATE_LIMITED` error. */
  limitedNoticeDue(nowMs: number): boolean {
    if (nowMs - this.lastLimitedMs < NOTICE_INTERVAL_MS) return false;
    this.lastLimitedMs = nowMs;
    return true;
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.lastRefillMs;
    // The first take starts the clock; a clock that steps back refills nothing and re-bases.
    if (elapsed > 0) {
      this.available = Math.min(this.capacity, this.available + (elapsed * this.refillPerSecond) / 1000);
    }
    this.lastRefillMs = nowMs;
  }
}
