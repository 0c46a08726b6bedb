import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SequenceTracker } from '../src/load/sequence-tracker.js';

function track(expectedFirst: number | null, values: number[]): SequenceTracker {
  const tracker = new SequenceTracker(expectedFirst);
  for (const value of values) tracker.observe(value);
  return tracker;
}

describe('SequenceTracker', () => {
  it('counts nothing for an unbroken sequence', () => {
    const t = track(0, [0, 1, 2, 3, 4]);
    assert.deepEqual([t.gaps, t.duplicates, t.last], [0, 0, 4]);
  });

  it('counts each skipped value as a gap and moves on', () => {
    const t = track(0, [0, 1, 4, 5, 9]);
    assert.deepEqual([t.gaps, t.duplicates, t.last], [5, 0, 9]);
  });

  it('counts repeats and late values as duplicates without moving back', () => {
    const t = track(0, [0, 1, 2, 2, 1, 3]);
    assert.deepEqual([t.gaps, t.duplicates, t.last], [0, 2, 3]);
  });

  it('counts a missing start as gaps when the first value is known', () => {
    const t = track(0, [3, 4]);
    assert.equal(t.gaps, 3);
  });

  it('takes the first value seen as the baseline when none is expected', () => {
    const t = track(null, [41, 42, 44]);
    assert.equal(t.started, true);
    assert.deepEqual([t.gaps, t.duplicates], [1, 0]);
    assert.equal(new SequenceTracker(null).started, false);
  });
});
