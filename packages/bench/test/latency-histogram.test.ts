import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyHistogram, bucketOf, highestInBucket } from '../src/load/latency-histogram.js';

function within(actual: number, expected: number, relative: number, label: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * relative, `${label}: ${actual} vs ${expected}`);
}

describe('LatencyHistogram', () => {
  it('is exact below 128', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    assert.equal(h.percentile(50), 50);
    assert.equal(h.percentile(90), 90);
    assert.equal(h.percentile(99), 99);
    assert.equal(h.percentile(100), 100);
  });

  it('reports percentiles within 1/64 of the true value across magnitudes', () => {
    const h = new LatencyHistogram();
    for (let v = 1; v <= 1_000_000; v++) h.record(v);
    within(h.percentile(50), 500_000, 1 / 64, 'p50');
    within(h.percentile(90), 900_000, 1 / 64, 'p90');
    within(h.percentile(99), 990_000, 1 / 64, 'p99');
    within(h.percentile(99.9), 999_000, 1 / 64, 'p99.9');
    assert.equal(h.max, 1_000_000);
    assert.equal(h.summary().mean, 500_000.5);
  });

  it('finds a small tail among many fast values', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 9990; i++) h.record(200);
    for (let i = 0; i < 10; i++) h.record(50_000);
    within(h.percentile(99), 200, 1 / 64, 'p99');
    within(h.percentile(99.95), 50_000, 1 / 64, 'p99.95');
  });

  it('clamps negative and huge values instead of failing', () => {
    const h = new LatencyHistogram();
    h.record(-5);
    h.record(1e12);
    assert.equal(h.count, 2);
    assert.equal(h.percentile(1), 0);
    assert.equal(h.max, 0x7fffffff);
  });

  it('merges snapshots from other processes', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let v = 1; v <= 500; v++) a.record(v);
    for (let v = 501; v <= 1000; v++) b.record(v);
    const merged = new LatencyHistogram();
    merged.merge(JSON.parse(JSON.stringify(a.snapshot())));
    merged.merge(JSON.parse(JSON.stringify(b.snapshot())));
    assert.equal(merged.count, 1000);
    assert.equal(merged.min, 1);
    assert.equal(merged.max, 1000);
    within(merged.percentile(50), 500, 1 / 64, 'p50');
  });

  it('maps every value into a bucket whose bound covers it, in order', () => {
    let previous = -1;
    for (let v = 0; v < 5_000_000; v += 7) {
      const bucket = bucketOf(v);
      assert.ok(bucket >= previous);
      assert.ok(highestInBucket(bucket) >= v);
      assert.ok(bucket === 0 || highestInBucket(bucket - 1) < v);
      previous = bucket;
    }
    assert.ok(highestInBucket(bucketOf(0x7fffffff)) >= 0x7fffffff);
  });
});
