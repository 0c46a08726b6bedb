import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickOwner } from '../src/sequencer/rendezvous.js';
import { MeshError, type MeshMember, type Stamp } from '../src/index.js';
import { body, startMember, stopAll, topicOwnedBy, waitFor, waitLinked } from './harness.js';

interface Seen {
  stamped: string;
  epoch: number;
  offset: number;
}

function record(m: MeshMember, topic: string): Seen[] {
  const seen: Seen[] = [];
  m.onDeliver = (t, stamped, epoch, offset) => {
    if (t === topic) seen.push({ stamped: stamped.toString(), epoch, offset });
  };
  return seen;
}

test('rendezvous: highest SHA-256 score wins, independent of candidate order', () => {
  const ids = ['a', 'b', 'c', 'd'];
  for (let i = 0; i < 50; i++) {
    const t = `topic-${i}`;
    assert.equal(pickOwner(t, ids), pickOwner(t, [...ids].reverse()));
  }
  const owners = new Set(Array.from({ length: 200 }, (_, i) => pickOwner(`t${i}`, ids)));
  assert.equal(owners.size, 4, 'topics spread over all candidates');
  assert.equal(pickOwner('x', []), '');
});

test('a single member owns every topic: publish sequences locally and delivers', async () => {
  const m = await startMember();
  try {
    const seen = record(m, 'solo');
    const stamps: (Stamp | null)[] = [];
    for (let i = 0; i < 5; i++) stamps.push(await m.publish('solo', body(`m${i}`)));
    assert.deepEqual(stamps.map((s) => s!.offset), [0, 1, 2, 3, 4]);
    assert.ok(stamps.every((s) => s!.epoch === stamps[0]!.epoch));
    assert.equal(seen.length, 5);
    const first = JSON.parse(seen[0]!.stamped) as Record<string, unknown>;
    assert.deepEqual(first, { tp: 'solo', e: stamps[0]!.epoch.toString(16).padStart(8, '0'), o: 0, c: 'm0' });
    assert.equal(m.ownerOf('anything'), m.instanceId);
  } finally {
    await m.stop();
  }
});

test('invalid and oversize bodies are rejected with typed errors', async () => {
  const m = await startMember();
  try {
    await assert.rejects(m.publish('t', Buffer.from('[1,2]')), (e: MeshError) => e.code === 'WSE_ERR_MESH_INVALID_BODY');
    await assert.rejects(m.publish('', body('x')), (e: MeshError) => e.code === 'WSE_ERR_MESH_INVALID_BODY');
    const huge = Buffer.from(JSON.stringify({ c: 'x'.repeat(1_048_576 - 60) }));
    await assert.rejects(m.publish('t', huge), (e: MeshError) => e.code === 'WSE_ERR_MESH_OVERSIZE');
  } finally {
    await m.stop();
  }
});

test('owner agreement and one total order: concurrent publishes from 4 members', async () => {
  const a = await startMember();
  const b = await startMember({ seeds: [a.address] });
  const c = await startMember({ seeds: [a.address] });
  const d = await startMember({ seeds: [a.address] });
  const all = [a, b, c, d];
  try {
    await waitLinked(all);
    for (let i = 0; i < 30; i++) {
      const owners = new Set(all.map((m) => m.ownerOf(`agree-${i}`)));
      assert.equal(owners.size, 1, `members agree on the owner of agree-${i}`);
    }
    const topic = 'order';
    const seen = all.map((m) => record(m, topic));
    for (const m of all) m.addInterest(topic);
    await new Promise((r) => setTimeout(r, 100));
    const pubs: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) for (const [k, m] of all.entries()) pubs.push(m.publish(topic, body(`${k}:${i}`)));
    const stamps = (await Promise.all(pubs)) as { epoch: number; offset: number }[];
    assert.deepEqual([...new Set(stamps.map((s) => s.offset))].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i));
    await waitFor(() => seen.every((s) => s.length === 200), 5_000, 'every member sees all 200');
    const reference = seen[0]!.map((s) => s.stamped);
    for (const s of seen) {
      assert.deepEqual(s.map((x) => x.stamped), reference, 'same order everywhere');
      assert.deepEqual(s.map((x) => x.offset), Array.from({ length: 200 }, (_, i) => i));
    }
    // Per-origin FIFO while the owner is stable.
    for (let k = 0; k < 4; k++) {
      const mine = reference.map((x) => (JSON.parse(x) as { c: string }).c).filter((c) => c.startsWith(`${k}:`));
      assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => `${k}:${i}`));
    }
    const owner = all.find((m) => m.ownerOf(topic) === m.instanceId)!;
    assert.deepEqual(all.map((m) => m.stats().ownedTopics), all.map((m) => (m === owner ? 1 : 0)), 'only the owner counts the topic as owned');
  } finally {
    await stopAll(all);
  }
});

test('graceful hand-over: a draining owner hands its position over and the sequence continues', async () => {
  const a = await startMember();
  const b = await startMember({ peers: [a.address] });
  const c = await startMember({ peers: [a.address, b.address] });
  try {
    await waitLinked([a, b, c]);
    const topic = topicOwnedBy(a, 'handover-');
    const seenC = record(c, topic);
    c.addInterest(topic);
    await new Promise((r) => setTimeout(r, 100));
    let last = null;
    for (let i = 0; i < 5; i++) last = await b.publish(topic, body(`before${i}`));
    assert.equal(last!.offset, 4);
    await a.stop();
    await waitFor(() => b.stats().peers === 1 && c.stats().peers === 1, 3_000, 'a gone');
    const after = await c.publish(topic, body('after'));
    assert.equal(after!.epoch, last!.epoch, 'same epoch');
    assert.equal(after!.offset, 5, 'continues at offset + 1');
    await waitFor(() => seenC.length === 6, 3_000, 'c sees all six');
    assert.deepEqual(seenC.map((s) => s.offset), [0, 1, 2, 3, 4, 5]);
    assert.ok(b.stats().sequencer.continuedHandovers + c.stats().sequencer.continuedHandovers >= 1);
  } finally {
    await stopAll([a, b, c]);
  }
});

test('ownership moves to a joining member with a higher score: claim takes over the position', async () => {
  const a = await startMember();
  try {
    const topics = Array.from({ length: 20 }, (_, i) => `join-${i}`);
    const last = new Map<string, { epoch: number; offset: number }>();
    for (const t of topics) {
      await a.publish(t, body('1'));
      last.set(t, (await a.publish(t, body('2')))!);
    }
    const b = await startMember({ peers: [a.address] });
    try {
      await waitLinked([a, b]);
      const moved = topics.filter((t) => b.ownerOf(t) === b.instanceId);
      assert.ok(moved.length > 0, 'some topics move to b');
      for (const t of moved) {
        const s = await a.publish(t, body('3'));
        assert.deepEqual(s, { epoch: last.get(t)!.epoch, offset: last.get(t)!.offset + 1 }, `continued ${t}`);
      }
      assert.ok(b.stats().sequencer.claims >= moved.length);
    } finally {
      await b.stop();
    }
  } finally {
    await a.stop();
  }
});

test('the owner sends the same stamped bytes to every peer, compressed or not, with or without a local consumer', async () => {
  const a = await startMember({ nodeId: 'owner' });
  const b = await startMember({ nodeId: 'zstd', peers: [a.address] });
  const c = await startMember({ nodeId: 'plain', peers: [a.address], compression: false });
  try {
    await waitLinked([a, b, c]);
    const topic = topicOwnedBy(a, 'variants-');
    const seenB = record(b, topic);
    const seenC = record(c, topic);
    b.addInterest(topic);
    c.addInterest(topic);
    await new Promise((r) => setTimeout(r, 100));
    const bodies = [body('small'), body('z'.repeat(4_000)), body('small again'), body('y'.repeat(4_000), { n: 1 })];
    await a.publish(topic, bodies[0]!);
    await a.publish(topic, bodies[1]!);
    const seenA = record(a, topic); // from here on the owner has a local consumer
    await a.publish(topic, bodies[2]!);
    await a.publish(topic, bodies[3]!);
    await waitFor(() => seenB.length === 4 && seenC.length === 4, 3_000, 'both peers see all four');
    assert.deepEqual(seenB, seenC);
    assert.deepEqual(seenA, seenB.slice(2));
    for (const [i, s] of seenB.entries()) {
      const parsed = JSON.parse(s.stamped) as Record<string, unknown>;
      assert.deepEqual(parsed, { tp: topic, e: s.epoch.toString(16).padStart(8, '0'), o: i, ...(JSON.parse(bodies[i]!.toString()) as object) });
    }
    const out = a.stats().nodes;
    assert.ok(out['zstd']!.bytesOut < out['plain']!.bytesOut - 4_000, 'the large messages went compressed to the zstd peer');
  } finally {
    await stopAll([a, b, c]);
  }
});
