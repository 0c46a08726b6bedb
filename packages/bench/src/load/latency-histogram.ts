/**
 * Fixed-size log-bucketed histogram of non-negative integers (HDR-style): values below 2^SUB_BITS
 * are exact, above that every power of two is split into 2^(SUB_BITS-1) buckets, so a reported
 * percentile is within 1/64 (1.6 %) of the true value. Recording allocates nothing.
 */

const SUB_BITS = 7;
const SUB_COUNT = 1 << SUB_BITS;
const HALF_COUNT = SUB_COUNT >>> 1;
/** Values are clamped to 2^31 - 1 (in microseconds: 35 minutes). */
const MAX_VALUE = 0x7fffffff;
const BUCKETS = (31 - SUB_BITS + 2) * HALF_COUNT;

export interface HistogramSummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class LatencyHistogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  record(value: number): void {
    const v = value <= 0 ? 0 : value >= MAX_VALUE ? MAX_VALUE : value | 0;
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The smallest bucket bound at or below which `p` percent of the values lie (max for 100). */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestInBucket(i), this.max);
    }
    return this.max;
  }

  merge(other: HistogramSnapshot): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i] ?? 0;
    this.count += other.count;
    this.sum += other.sum;
    if (other.count > 0) {
      this.min = Math.min(this.min, other.min);
      this.max = Math.max(this.max, other.max);
    }
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = 0;
  }

  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), count: this.count, sum: this.sum, min: this.min, max: this.max };
  }

  summary(): HistogramSummary {
    return {
      count: this.count,
      min: this.count === 0 ? 0 : this.min,
      mean: this.count === 0 ? 0 : this.sum / this.count,
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      p999: this.percentile(99.9),
      max: this.max,
    };
  }
}

/** Plain-data form that crosses process boundaries (IPC). */
export interface HistogramSnapshot {
  counts: number[];
  count: number;
  sum: number;
  min: number;
  max: number;
}

export function bucketOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const shift = 31 - Math.clz32(v) - (SUB_BITS - 1);
  return shift * HALF_COUNT + (v >>> shift);
}

export function highestInBucket(index: number): number {
  if (index < SUB_COUNT) return index;
  const shift = Math.floor(index / HALF_COUNT) - 1;
  const sub = index - shift * HALF_COUNT;
  return (sub + 1) * 2 ** shift - 1;
}
