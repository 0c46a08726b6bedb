import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshError } from '../src/index.js';
import { body, startMember, stopAll, topicOwnedBy, waitFor, waitLinked } from './harness.js';

const HIGH = 256 * 1024;
const LOW = 128 * 1024;

test('a receiver that pauses makes the sender pace within a bounded buffer; after resume nothing is lost', async () => {
  const tuning = { highWaterBytes: HIGH, lowWaterBytes: LOW, deadAfterMs: 60_000 };
  const a = await startMember({ tuning, compression: false });
  const b = await startMember({ tuning, compression: false, peers: [a.address] });
  try {
    await waitLinked([a, b]);
    const topic = topicOwnedBy(a, 'flow-');
    const offsets: number[] = [];
    b.onDeliver = (t, _s, _e, offset) => {
      if (t === topic) offsets.push(offset);
    };
    b.addInterest(topic);
    await new Promise((r) => setTimeout(r, 100));
    b.setIntakePaused(true);

    const N = 60_000;
    const payload = body('x'.repeat(280));
    let resolved = 0;
    let maxQueued = 0;
    const sampler = setInterval(() => {
      maxQueued = Math.max(maxQueued, a.stats().links[0]?.queuedBytes ?? 0);
    }, 5);
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) all.push(a.publish(topic, payload).then(() => resolved++));
    await waitFor(() => a.stats().fullLinks === 1, 10_000, 'link reaches its high-water mark');
    // Paced: the publisher waits instead of queueing without bound.
    await new Promise((r) => setTimeout(r, 300));
    const pending = N - resolved;
    assert.ok(pending > 0, `publishes are paced (${pending} waiting)`);
    assert.equal(b.stats().pausedLinks, 1);
    assert.ok(maxQueued <= HIGH + 64 * 1024, `queue bounded: ${maxQueued}`);
    assert.equal(a.stats().drops['link-closed'], 0);

    b.setIntakePaused(false);
    await Promise.all(all);
    clearInterval(sampler);
    await waitFor(() => offsets.length === N, 20_000, 'every frame delivered');
    for (let i = 0; i < N; i++) if (offsets[i] !== i) assert.fail(`out of order at ${i}: ${offsets[i]}`);
    assert.ok(maxQueued <= HIGH + 64 * 1024, `queue bounded: ${maxQueued}`);
    assert.equal(b.stats().peers, 1, 'the paused link was not timed out');
  } finally {
    await stopAll([a, b]);
  }
});

test('PUBLISH credit: a non-owner never has more than the window outstanding, and all complete', async () => {
  const tuning = { creditFrames: 16, creditBytes: 64 * 1024 };
  const a = await startMember({ tuning });
  const b = await startMember({ tuning, peers: [a.address] });
  try {
    await waitLinked([a, b]);
    const topic = topicOwnedBy(a, 'credit-');
    let maxOutstanding = 0;
    const sampler = setInterval(() => (maxOutstanding = Math.max(maxOutstanding, b.stats().creditsOutstanding)), 1);
    const stamps = await Promise.all(Array.from({ length: 2_000 }, (_, i) => b.publish(topic, body(`${i}`))));
    clearInterval(sampler);
    assert.deepEqual(stamps.map((s) => s!.offset), Array.from({ length: 2_000 }, (_, i) => i));
    assert.ok(maxOutstanding <= 16, `outstanding ${maxOutstanding}`);
    await waitFor(() => b.stats().creditsOutstanding === 0, 2_000, 'all credit returned');
  } finally {
    await stopAll([a, b]);
  }
});

test('publishNow sequences at once while links have room; when one is full it does nothing and publish waits in order', async () => {
  const tuning = { highWaterBytes: HIGH, lowWaterBytes: LOW, deadAfterMs: 60_000 };
  const a = await startMember({ tuning, compression: false });
  const b = await startMember({ tuning, compression: false, peers: [a.address] });
  try {
    await waitLinked([a, b]);
    const topic = topicOwnedBy(a, 'now-');
    const offsets: number[] = [];
    b.onDeliver = (t, _s, _e, offset) => {
      if (t === topic) offsets.push(offset);
    };
    b.addInterest(topic);
    await new Promise((r) => setTimeout(r, 100));
    const payload = body('x'.repeat(200));
    assert.equal(a.publishNow(topic, payload), null, 'not before this member has claimed the topic');
    assert.equal((await a.publish(topic, payload))!.offset, 0, 'the first publish claims it');
    b.setIntakePaused(true);

    let sent = 1;
    while (a.publishNow(topic, payload) !== null) sent++;
    assert.equal(a.stats().fullLinks, 1, 'publishNow stopped at the high-water mark');
    assert.ok(a.stats().links[0]!.queuedBytes <= HIGH + 512, 'nothing was queued past the mark');
    const sequenced = a.stats().sequencer.sequenced;
    assert.equal(a.publishNow(topic, payload), null);
    assert.equal(a.stats().sequencer.sequenced, sequenced, 'a refused publishNow sequences nothing');

    const waiting = a.publish(topic, payload);
    assert.throws(() => a.publishNow(topic, Buffer.from('[1]')), (e: MeshError) => e.code === 'WSE_ERR_MESH_INVALID_BODY');
    b.setIntakePaused(false);
    const stamp = await waiting;
    assert.equal(stamp!.offset, sent, 'the waiting publish keeps its place');
    const next = a.publishNow(topic, payload);
    assert.equal(next?.offset, sent + 1, 'the fast path is back once the link drained');
    assert.ok(sent > 100, `${sent} sequenced synchronously before the mark`);

    await waitFor(() => offsets.length === sent + 2, 10_000, 'every frame delivered');
    assert.deepEqual(offsets, Array.from({ length: sent + 2 }, (_, i) => i));

    const elsewhere = topicOwnedBy(b, 'now-remote-');
    assert.equal(a.publishNow(elsewhere, payload), null, 'a topic owned by another member is never published synchronously');
    assert.equal((await a.publish(elsewhere, payload))!.offset, 0);
  } finally {
    await stopAll([a, b]);
  }
});
