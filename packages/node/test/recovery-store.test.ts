import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochHex } from '../src/protocol/publication.js';
import { RecoveryStore, type RecoveryOutcome, type RecoveryStoreOptions } from '../src/recovery/store.js';
import { ownBuffer } from './own-buffer.js';

class Clock {
  ms = 1_000_000;
  readonly now = (): number => this.ms;
}

function store(options: Partial<RecoveryStoreOptions> = {}, clock = new Clock()): RecoveryStore {
  return new RecoveryStore({ bufferSize: 16, ttlMs: 300_000, maxMessages: 500, memoryBudgetBytes: 1 << 30, now: clock.now, ...options });
}

/** A message in its own backing store, so pinned bytes equal message bytes. */
const body = (topic: string, offset: number, size = 0): Buffer => ownBuffer(`{"tp":"${topic}","o":${offset}${' '.repeat(size)}}`);

/** Publish like the sequencer: take the next stamp, append. */
function publish(s: RecoveryStore, topic: string, count: number, size = 0): { epoch: number; offset: number } {
  let stamp = { epoch: 0, offset: 0 };
  for (let i = 0; i < count; i++) {
    stamp = s.nextStamp(topic);
    s.append(topic, stamp.epoch, stamp.offset, body(topic, stamp.offset, size));
  }
  return stamp;
}

function offsets(outcome: RecoveryOutcome): number[] {
  return outcome.messages.map((m) => (JSON.parse(m.toString()) as { o: number }).o);
}

function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}

describe('recovery store (PROTOCOL.md §8)', () => {
  it('stamps a new topic at a fresh epoch from offset 0, then continues', () => {
    const s = store({ randomEpoch: sequence(0xabcd) });
    assert.deepEqual(s.nextStamp('chat'), { epoch: 0xabcd, offset: 0 });
    assert.deepEqual(s.nextStamp('chat'), { epoch: 0xabcd, offset: 0 }, 'no append yet: same stamp');
    s.append('chat', 0xabcd, 0, body('chat', 0));
    assert.deepEqual(s.nextStamp('chat'), { epoch: 0xabcd, offset: 1 });
  });

  it('recovers exactly the missed range, byte-identical, with offset head-1', () => {
    const s = store();
    const last = publish(s, 'chat', 10);
    const outcome = s.recover('chat', epochHex(last.epoch), 4);
    assert.equal(outcome.kind, 'recovered');
    assert.equal(outcome.epoch, epochHex(last.epoch));
    assert.equal(outcome.offset, 9);
    assert.deepEqual(offsets(outcome), [5, 6, 7, 8, 9]);
    assert.deepEqual(outcome.messages[0], body('chat', 5));
    const upToDate = s.recover('chat', epochHex(last.epoch), 9);
    assert.equal(upToDate.kind, 'recovered');
    assert.deepEqual(upToDate.messages, []);
    assert.deepEqual(offsets(s.recover('chat', epochHex(last.epoch), -1)), Array.from({ length: 10 }, (_, i) => i));
  });

  it('never replays part of a range: over the cap, evicted, ahead, unknown → current position only', () => {
    const s = store({ bufferSize: 1024, maxMessages: 500 });
    const last = publish(s, 'chat', 600);
    const e = epochHex(last.epoch);
    const current = { kind: 'not_recovered', epoch: e, offset: 599, messages: [] };
    assert.equal(s.recover('chat', e, 99).kind, 'recovered', 'exactly 500 missed');
    assert.deepEqual(s.recover('chat', e, 98), current, '501 missed');
    assert.deepEqual(s.recover('chat', e, 600), current, 'client ahead of head');
    assert.deepEqual(s.recover('chat', e === '00000000' ? '00000001' : '00000000', 598), current, 'unknown epoch');
    assert.deepEqual(s.recover('chat', 'not-hex', 598), current, 'non-hex epoch');
    assert.deepEqual(s.recover('chat', e, '598'), current, 'offset as string');
    assert.deepEqual(s.recover('chat', e, 1.5), current, 'fractional offset');

    const small = store({ bufferSize: 16 });
    const at = publish(small, 't', 40);
    assert.deepEqual(small.recover('t', epochHex(at.epoch), 22), { kind: 'not_recovered', epoch: epochHex(at.epoch), offset: 39, messages: [] });
    assert.equal(small.recover('t', epochHex(at.epoch), 23).messages.length, 16);
  });

  it('answers no_history for an unknown topic; position() reports the current one', () => {
    const s = store();
    assert.deepEqual(s.recover('nope', '00000001', 3), { kind: 'no_history', epoch: null, offset: 0, messages: [] });
    assert.deepEqual(s.position('nope'), { kind: 'no_history', epoch: null, offset: 0, messages: [] });
    const last = publish(s, 'chat', 3);
    assert.deepEqual(s.position('chat'), { kind: 'not_recovered', epoch: epochHex(last.epoch), offset: 2, messages: [] });
  });

  it('serves rings received over the mesh, from their first offset, and fails across a hole', () => {
    const s = store();
    const e = 0x1234;
    for (const o of [57, 58, 60]) s.append('m', e, o, body('m', o));
    assert.deepEqual(s.position('m'), { kind: 'not_recovered', epoch: '00001234', offset: 60, messages: [] });
    assert.equal(s.recover('m', '00001234', 57).kind, 'not_recovered', 'hole at 59');
    assert.deepEqual(offsets(s.recover('m', '00001234', 59)), [60]);
    assert.equal(s.recover('m', '00001234', 55).kind, 'not_recovered', '56 never held');
    s.append('m', e, 59, body('m', 59));
    assert.deepEqual(offsets(s.recover('m', '00001234', 56)), [57, 58, 59, 60]);
  });

  it('a superseded epoch no longer recovers; the client is moved to the new position', () => {
    const s = store();
    s.append('t', 1, 0, body('t', 0));
    s.append('t', 1, 1, body('t', 1));
    s.append('t', 2, 0, body('t', 0)); // new owner, new epoch
    assert.deepEqual(s.recover('t', '00000001', 0), { kind: 'not_recovered', epoch: '00000002', offset: 0, messages: [] });
    assert.deepEqual(s.nextStamp('t'), { epoch: 2, offset: 1 });
  });

  it('after detach a plain subscribe sees no history, but held ranges still replay', () => {
    const s = store();
    const last = publish(s, 't', 5);
    s.detach('t');
    assert.equal(s.position('t').kind, 'no_history');
    assert.deepEqual(offsets(s.recover('t', epochHex(last.epoch), 2)), [3, 4]);
  });

  it('counts messages pushed out of full rings', () => {
    const s = store({ bufferSize: 16 });
    publish(s, 't', 20);
    assert.equal(s.stats().evictions.slots, 4);
    assert.equal(s.stats().bytes, Array.from({ length: 16 }, (_, i) => body('t', 4 + i).length).reduce((a, b) => a + b));
  });

  it('evicts the least-recently-written ring first when over the byte budget', () => {
    const clock = new Clock();
    const size = body('a', 0, 85).length; // ~100 bytes each
    const s = store({ memoryBudgetBytes: 10 * size }, clock);
    publish(s, 'a', 5, 85); // 'a' created first …
    clock.ms++;
    publish(s, 'b', 4, 85);
    clock.ms++;
    publish(s, 'a', 1, 85); // … but written last
    assert.equal(s.stats().bytes, 10 * size);
    assert.equal(s.stats().evictions.budget, 0);
    clock.ms++;
    publish(s, 'c', 1, 85);
    const stats = s.stats();
    assert.equal(stats.evictions.budget, 1);
    assert.equal(stats.rings, 2);
    assert.equal(stats.topics, 2);
    assert.equal(stats.bytes, 7 * size);
    assert.equal(s.position('b').kind, 'no_history');
    assert.equal(s.position('a').offset, 5);
  });

  it('counts the whole backing store a message keeps alive, once however many messages share it', () => {
    const slab = 8192;
    // Sparse topics: each message is the only one held from its pool slab.
    const sparse = store({ memoryBudgetBytes: 3 * slab });
    for (const topic of ['a', 'b', 'c']) {
      const stamp = sparse.nextStamp(topic);
      sparse.append(topic, stamp.epoch, stamp.offset, Buffer.from(new ArrayBuffer(slab), 0, 100));
    }
    assert.equal(sparse.stats().bytes, 3 * slab);
    assert.equal(sparse.stats().evictions.budget, 0);
    const stamp = sparse.nextStamp('d');
    sparse.append('d', stamp.epoch, stamp.offset, Buffer.from(new ArrayBuffer(slab), 0, 100));
    assert.equal(sparse.stats().evictions.budget, 1, 'the fourth slab is over the budget');
    assert.equal(sparse.stats().bytes, 3 * slab);
    assert.equal(sparse.position('a').kind, 'no_history');

    // Views of one slab count it once, and it is released with the last of them.
    const clock = new Clock();
    const shared = store({ bufferSize: 16, ttlMs: 1_000 }, clock);
    const backing = new ArrayBuffer(slab);
    for (let i = 0; i < 20; i++) {
      const next = shared.nextStamp('t');
      shared.append('t', next.epoch, next.offset, Buffer.from(backing, i * 100, 100));
    }
    assert.equal(shared.stats().bytes, slab);
    clock.ms += 2_000;
    shared.sweep();
    assert.equal(shared.stats().bytes, 0);
  });

  it('expires rings idle past the TTL on sweep, and only those', () => {
    const clock = new Clock();
    const s = store({ ttlMs: 300_000 }, clock);
    publish(s, 'old', 3);
    clock.ms += 100_000;
    publish(s, 'new', 3);
    clock.ms += 200_000;
    assert.equal(s.sweep(), 0, 'exactly at the TTL: kept');
    clock.ms += 1;
    assert.equal(s.sweep(), 1);
    const stats = s.stats();
    assert.deepEqual(stats.evictions, { ttl: 1, budget: 0, slots: 0 });
    assert.equal(stats.topics, 1);
    assert.equal(s.position('old').kind, 'no_history');
    clock.ms += 100_000;
    assert.equal(s.sweep(), 1);
    assert.deepEqual(s.stats(), { topics: 0, rings: 0, bytes: 0, evictions: { ttl: 2, budget: 0, slots: 0 } });
  });

  it('draws a new epoch after the current ring is evicted, never one recorded for the topic', () => {
    const clock = new Clock();
    const s = store({ ttlMs: 1000, randomEpoch: sequence(7, 7, 7, 9) }, clock);
    assert.equal(publish(s, 't', 2).epoch, 7);
    const old = s.recover('t', '00000007', 0);
    assert.equal(old.kind, 'recovered');
    clock.ms += 1001;
    s.sweep();
    assert.deepEqual(s.nextStamp('t'), { epoch: 9, offset: 0 });
    assert.equal(s.recover('t', '00000007', 0).kind, 'no_history');
  });

  it('a new epoch also avoids rings still held for the topic', () => {
    const s = store({ randomEpoch: sequence(5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5) });
    s.append('t', 5, 0, body('t', 0));
    s.detach('t');
    const stamp = s.nextStamp('t');
    assert.notEqual(stamp.epoch, 5);
    assert.equal(stamp.offset, 0);
  });
});

describe('recovery store: ranges from other members (docs/MESH-EXTENSIONS.md E.f)', () => {
  const E = 0x1234abcd;
  const hex = epochHex(E);
  const received = (s: RecoveryStore, topic: string, from: number, to: number): void => {
    for (let o = from; o <= to; o++) s.append(topic, E, o, body(topic, o));
  };
  const range = (topic: string, from: number, to: number): Buffer[] => Array.from({ length: to - from + 1 }, (_, i) => body(topic, from + i));

  it('names the range to fetch only when it cannot answer by itself', () => {
    const s = store();
    assert.deepEqual(s.missingRange('t', hex, 4), { epoch: E, from: 5 }, 'no history');
    received(s, 't', 10, 12);
    assert.deepEqual(s.missingRange('t', hex, 4), { epoch: E, from: 5 }, 'older than the ring');
    assert.equal(s.missingRange('t', hex, 9), null, 'the ring holds it');
    assert.equal(s.missingRange('t', epochHex(E + 1), 4), null, 'another epoch: the topic moved on');
    assert.equal(s.missingRange('t', 'not-hex', 4), null);
    assert.equal(s.missingRange('t', hex, -2), null);
    s.detach('t');
    assert.deepEqual(s.missingRange('t', hex, 11), { epoch: E, from: 12 }, 'a ring no longer current may have stopped short');
  });

  it('answers others from its current ring only, [] at its head', () => {
    const s = store();
    received(s, 't', 3, 6);
    assert.deepEqual(offsets({ kind: 'recovered', epoch: hex, offset: 6, messages: s.heldRange('t', E, 4)! }), [4, 5, 6]);
    assert.deepEqual(s.heldRange('t', E, 7), []);
    assert.equal(s.heldRange('t', E, 2), null, 'older than its tail');
    assert.equal(s.heldRange('t', E, 8), null, 'past its head');
    assert.equal(s.heldRange('t', E + 1, 4), null);
    s.detach('t');
    assert.equal(s.heldRange('t', E, 4), null, 'not current');
  });

  it('fills a fetched range in front of the live messages that came meanwhile, then recovers across both', () => {
    const s = store();
    received(s, 't', 8, 9); // live, from the moment the worker took interest
    s.insertRange('t', E, 3, range('t', 3, 9));
    const outcome = s.recover('t', hex, 2);
    assert.equal(outcome.kind, 'recovered');
    assert.deepEqual(offsets(outcome), [3, 4, 5, 6, 7, 8, 9]);
  });

  it('a fetched range that stops short of the live messages leaves a gap: not recovered, never partial', () => {
    const s = store();
    received(s, 't', 8, 9);
    s.insertRange('t', E, 3, range('t', 3, 5));
    assert.equal(s.recover('t', hex, 2).kind, 'not_recovered');
  });

  it('an empty fetch positions the topic: a client at that head missed nothing', () => {
    const s = store();
    s.insertRange('t', E, 7, []);
    assert.deepEqual(s.recover('t', hex, 6), { kind: 'recovered', epoch: hex, offset: 6, messages: [] });
    assert.notEqual(s.recover('t', hex, 5).kind, 'recovered', 'one behind it did miss something');
  });
});
