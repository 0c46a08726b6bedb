import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rateLimitWarningFrame } from '../src/protocol/control-frames.js';
import { TokenBucket } from '../src/protocol/rate-limiter.js';

describe('token bucket (PROTOCOL.md §12)', () => {
  it('warns below 20 % and limits below one token, without consuming when limited', () => {
    const bucket = new TokenBucket(10, 5);
    const results = Array.from({ length: 12 }, () => bucket.take(1000));
    assert.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'warn', 'warn', 'limited', 'limited']);
    assert.equal(bucket.tokens, 0);
  });

  it('refills at the configured rate, capped at capacity', () => {
    const bucket = new TokenBucket(10, 5);
    for (let i = 0; i < 10; i++) bucket.take(0);
    assert.equal(bucket.take(100), 'limited'); // 0.5 tokens
    assert.equal(bucket.take(200), 'warn'); // 1 token, taken
    assert.equal(bucket.tokens, 0);
    bucket.take(60_000);
    assert.equal(bucket.tokens, 9);
  });

  it('does not refill when the clock steps back', () => {
    const bucket = new TokenBucket(2, 1000);
    bucket.take(5000);
    bucket.take(5000);
    assert.equal(bucket.take(4000), 'limited');
    assert.equal(bucket.take(4000), 'limited');
    assert.equal(bucket.take(4001), 'warn');
  });

  it('throttles the warning and the RATE_LIMITED notice to once per second each', () => {
    const bucket = new TokenBucket(10, 5);
    assert.equal(bucket.warningDue(0), true);
    assert.equal(bucket.warningDue(999), false);
    assert.equal(bucket.limitedNoticeDue(500), true);
    assert.equal(bucket.limitedNoticeDue(1499), false);
    assert.equal(bucket.warningDue(1000), true);
    assert.equal(bucket.limitedNoticeDue(1500), true);
  });

  it('feeds the §12 frame with the spec defaults', () => {
    const bucket = new TokenBucket(100_000, 10_000);
    let result = bucket.take(0);
    for (let i = 1; i < 80_001; i++) result = bucket.take(0);
    assert.equal(result, 'warn');
    assert.match(rateLimitWarningFrame(bucket.capacity, bucket.tokens), /"current_rate":80001,"limit":100000,"remaining":19999,/);
  });
});
