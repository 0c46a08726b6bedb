import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PinnedBytes } from '../src/recovery/pinned-bytes.js';
import { RecoveryRing } from '../src/recovery/ring.js';
import { ownBuffer } from './own-buffer.js';

const msg = (offset: number): Buffer => ownBuffer(`{"o":${offset}}`);
const offsetsOf = (messages: Buffer[] | null): number[] | null =>
  messages === null ? null : messages.map((m) => (JSON.parse(m.toString()) as { o: number }).o);

function filled(size: number, from: number, to: number, pinned = new PinnedBytes()): RecoveryRing {
  const ring = new RecoveryRing(1, size, 0, pinned);
  for (let o = from; o < to; o++) ring.append(o, msg(o), o);
  return ring;
}

describe('recovery ring (PROTOCOL.md §8)', () => {
  it('rounds the slot count up to a power of two', () => {
    assert.equal(new RecoveryRing(1, 16, 0, new PinnedBytes()).size, 16);
    assert.equal(new RecoveryRing(1, 20, 0, new PinnedBytes()).size, 32);
    assert.equal(new RecoveryRing(1, 128, 0, new PinnedBytes()).size, 128);
  });

  it('wraps around: keeps the newest size messages in order and evicts the rest', () => {
    const pinned = new PinnedBytes();
    const ring = filled(16, 0, 40, pinned);
    assert.equal(ring.tail, 24);
    assert.equal(ring.head, 40);
    assert.equal(ring.evicted, 24);
    assert.deepEqual(offsetsOf(ring.range(24)), Array.from({ length: 16 }, (_, i) => 24 + i));
    assert.equal(ring.range(23), null);
    assert.deepEqual(ring.range(40), []);
    assert.equal(pinned.total, 16 * msg(30).length);
  });

  it('the first message sets the base; older or repeated offsets are ignored', () => {
    const pinned = new PinnedBytes();
    const ring = new RecoveryRing(7, 16, 0, pinned);
    assert.equal(ring.append(57, msg(57), 1), true);
    assert.equal(ring.tail, 57);
    assert.equal(ring.head, 58);
    assert.equal(ring.append(56, msg(56), 2), false);
    assert.equal(ring.append(57, Buffer.from('other'), 3), false);
    assert.deepEqual(offsetsOf(ring.range(57)), [57]);
    assert.equal(pinned.total, msg(57).length);
    assert.equal(ring.lastWriteMs, 3);
  });

  it('a jump leaves a hole that makes ranges across it fail until filled', () => {
    const ring = filled(16, 0, 5);
    ring.append(7, msg(7), 7);
    assert.equal(ring.head, 8);
    assert.equal(ring.has(5), false);
    assert.equal(ring.range(3), null);
    assert.deepEqual(offsetsOf(ring.range(7)), [7]);
    ring.append(5, msg(5), 8);
    assert.equal(ring.range(3), null);
    ring.append(6, msg(6), 9);
    assert.deepEqual(offsetsOf(ring.range(3)), [3, 4, 5, 6, 7]);
  });

  it('a jump past the whole window evicts everything older', () => {
    const pinned = new PinnedBytes();
    const ring = filled(16, 0, 4, pinned);
    ring.append(100, msg(100), 100);
    assert.equal(ring.tail, 100);
    assert.equal(ring.head, 101);
    assert.equal(ring.evicted, 4);
    assert.equal(pinned.total, msg(100).length);
    assert.deepEqual(offsetsOf(ring.range(100)), [100]);
    assert.equal(ring.range(99), null);
  });

  it('a partial jump moves the tail to the oldest message still held', () => {
    const pinned = new PinnedBytes();
    const ring = filled(16, 0, 16, pinned);
    ring.append(20, msg(20), 20); // window [5, 21): 5..15 held, 16..19 holes
    assert.equal(ring.tail, 5);
    assert.equal(ring.evicted, 5);
    assert.equal(ring.range(10), null);
    ring.append(30, msg(30), 30); // window [15, 31): 15 held, then holes
    assert.equal(ring.tail, 15);
    ring.append(40, msg(40), 40); // window [25, 41): only 30 and 40 held
    assert.equal(ring.tail, 30);
    assert.equal(pinned.total, msg(30).length + msg(40).length);
  });

  it('handles offsets beyond 32 bits', () => {
    const base = 2 ** 40;
    const ring = filled(16, base, base + 20);
    assert.equal(ring.tail, base + 4);
    assert.equal(ring.range(base + 18)!.length, 2);
  });
});
