/**
 * MESH.md §E.a ownership changes when a member joins: a member that restarts (new instance id) and
 * out-scores the live owner must take the topic over from it — same epoch, next offset — and never
 * start a new epoch while the owner lives.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7, type MeshMember, type Stamp } from '../src/index.js';
import { pickOwner } from '../src/sequencer/rendezvous.js';
import { body, ChildMember, freePort, startMember, stopAll, topicOwnedBy, whenMembers } from './harness.js';

const WAIT_MS = 10_000;

/** A fresh instance id (as a restarted process gets) that out-scores every id in `others` for `topic`. */
function winningId(topic: string, others: string[]): string {
  for (;;) {
    const id = uuidv7();
    if (pickOwner(topic, [...others, id]) === id) return id;
  }
}

/** Every stamped delivery of `topic` on `m`, with a wait for a condition on them. */
function recordTopic(m: MeshMember, topic: string): { seen: Stamp[]; until(cond: (seen: Stamp[]) => boolean, what: string): Promise<void> } {
  const seen: Stamp[] = [];
  let wake: (() => void) | null = null;
  m.onDeliver = (t, _stamped, epoch, offset) => {
    if (t !== topic) return;
    seen.push({ epoch, offset });
    wake?.();
  };
  return {
    seen,
    until(cond, what) {
      if (cond(seen)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
        wake = () => {
          if (!cond(seen)) return;
          clearTimeout(timer);
          wake = null;
          resolve();
        };
      });
    },
  };
}

/** Publishes to `topic` from `m` one message at a time until stopped; keeps every stamp. */
function publishLoop(m: MeshMember, topic: string, tag: string): { stamps: Stamp[]; stop(): Promise<void> } {
  const stamps: Stamp[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      stamps.push((await m.publish(topic, body(`${tag}${i}`)))!);
      // An owner's publish resolves at once: yield so the loop does not starve the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  // A loop cut short by a stopping member is reported by stop(), not as an unhandled rejection.
  done.catch(() => {});
  return {
    stamps,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Members a, b and c, b and c seeded by a, once all three are linked to each other. */
async function linkedTrio(): Promise<MeshMember[]> {
  const a = await startMember();
  const trio = [a, await startMember({ seeds: [a.address] }), await startMember({ seeds: [a.address] })];
  try {
    await whenMembers(trio, () => trio.every((m) => m.stats().peers === 2), WAIT_MS, 'three members linked');
  } catch (error) {
    await stopAll(trio);
    throw error;
  }
  return trio;
}

/** One epoch and offsets 0..n-1, each exactly once. */
function assertGapFree(stamps: Stamp[], epoch: number, what: string): void {
  assert.deepEqual([...new Set(stamps.map((s) => s.epoch))], [epoch], `${what}: one epoch`);
  const offsets = stamps.map((s) => s.offset).sort((x, y) => x - y);
  assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => i), `${what}: offsets 0..${offsets.length - 1}, once each`);
}

test('a non-owner killed with SIGKILL restarts with a new id that wins the topic: it continues the epoch, gap-free', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const childAddress = `127.0.0.1:${port}`;
  // Static peers both ways, as a node's workers have: the survivors redial the restarted child.
  const a = await startMember({ peers: [childAddress] });
  const b = await startMember({ peers: [a.address, childAddress] });
  const c = await startMember({ peers: [a.address, b.address, childAddress] });
  const survivors = [a, b, c];
  const peersOfChild = survivors.map((m) => m.address);
  let child = await ChildMember.spawn({ listen: { host: '127.0.0.1', port }, peers: peersOfChild });
  const loops: ReturnType<typeof publishLoop>[] = [];
  try {
    const firstChild = child;
    await whenMembers(survivors, () => survivors.every((m) => m.stats().peers === 3), WAIT_MS, 'four members linked');
    await firstChild.until(() => firstChild.peers === 3, WAIT_MS, 'child linked to all');
    const topic = topicOwnedBy(a, 'rejoin-');
    const atB = recordTopic(b, topic);
    const atC = recordTopic(c, topic);
    // A SUB goes ahead of a PUBLISH on the same link: once these are stamped the owner knows the interest.
    b.addInterest(topic);
    c.addInterest(topic);
    const probes = [(await b.publish(topic, body('probe-b')))!, (await c.publish(topic, body('probe-c')))!];
    const epoch = probes[0]!.epoch;

    loops.push(publishLoop(a, topic, 'a'), publishLoop(b, topic, 'b'));
    await child.kill('SIGKILL');
    await whenMembers(survivors, () => survivors.every((m) => m.stats().peers === 2), WAIT_MS, 'the child is gone');

    // The restarted child out-scores the owner and publishes at once, before any of its links is up.
    const newId = winningId(topic, survivors.map((m) => m.instanceId));
    child = await ChildMember.spawn({ listen: { host: '127.0.0.1', port }, peers: peersOfChild, instanceId: newId }, [], {
      topic,
      body: JSON.stringify({ c: 'from-restarted' }),
    });
    const restarted = child;
    await whenMembers(survivors, () => survivors.every((m) => m.ownerOf(topic) === newId), WAIT_MS, 'the restarted child owns the topic');
    await restarted.until(() => restarted.startPublished !== null, WAIT_MS, 'the restarted child sequenced its first publish');
    assert.equal(restarted.startPublished!.error, undefined);
    const fromChild: Stamp[] = [];
    for (let i = 0; i < 5; i++) fromChild.push(await restarted.call<Stamp>({ cmd: 'publish', topic, body: JSON.stringify({ c: `after${i}` }) }));

    // Both loops go on through the new owner for a while, then everything is accounted for.
    const [loopA, loopB] = loops as [ReturnType<typeof publishLoop>, ReturnType<typeof publishLoop>];
    const [countA, countB] = [loopA.stamps.length, loopB.stamps.length];
    // Checked at each delivery to c, which sees every message.
    await atC.until(() => loopA.stamps.length > countA + 10 && loopB.stamps.length > countB + 10, 'both loops publish through the new owner');
    for (const loop of loops.splice(0)) await loop.stop();
    const stamps = [...probes, ...loopA.stamps, ...loopB.stamps, restarted.startPublished!.stamp!, ...fromChild];
    assertGapFree(stamps, epoch, 'the stamps publishers got');
    for (const [name, at] of [['b', atB], ['c', atC]] as const) {
      await at.until((seen) => seen.length >= stamps.length, `${name} receives all ${stamps.length}`);
      assertGapFree(at.seen, epoch, `deliveries at ${name}`);
    }
    const { stats } = await restarted.call<{ stats: { sequencer: { newEpochs: number; continuedHandovers: number } } }>({ cmd: 'stats' });
    assert.equal(stats.sequencer.newEpochs, 0, 'the restarted child started no epoch');
    assert.ok(stats.sequencer.continuedHandovers >= 1, 'the restarted child continued a handed-over position');
  } finally {
    // Stopping the members ends any loop still waiting for a stamp.
    await child.kill('SIGKILL');
    await stopAll(survivors);
    await Promise.allSettled(loops.map((loop) => loop.stop()));
  }
});

test('a joining member that wins the topic waits for every member it learns of before claiming it', { timeout: 60_000 }, async () => {
  const old = await linkedTrio();
  const [a, b, c] = old as [MeshMember, MeshMember, MeshMember];
  let newcomer: MeshMember | null = null;
  try {
    const topic = topicOwnedBy(a, 'join-first-');
    const atC = recordTopic(c, topic);
    c.addInterest(topic);
    const before: Stamp[] = [];
    for (let i = 0; i < 3; i++) before.push((await b.publish(topic, body(`before${i}`)))!);
    const newId = winningId(topic, old.map((m) => m.instanceId));
    // b forwards to the newcomer the moment their link opens, so the PUBLISH reaches the newcomer
    // with b's PeerList, before it has linked a (the owner) or c, which it learns of from that list.
    const firstToNewcomer = new Promise<Stamp>((resolve, reject) => {
      b.onMembersChanged = () => {
        if (b.ownerOf(topic) !== newId) return;
        b.onMembersChanged = null;
        b.publish(topic, body('first-to-newcomer')).then((s) => resolve(s!), reject);
      };
    });
    newcomer = await startMember({ instanceId: newId, seeds: [b.address] });
    const first = await firstToNewcomer;
    assert.deepEqual(first, { epoch: before[0]!.epoch, offset: 3 }, 'the newcomer continues the owner’s sequence');
    assert.deepEqual(await newcomer.publish(topic, body('from-newcomer')), { epoch: before[0]!.epoch, offset: 4 });
    await atC.until((seen) => seen.length === 5, 'c receives all five');
    assertGapFree(atC.seen, before[0]!.epoch, 'deliveries at c');
    assert.equal(newcomer.stats().sequencer.newEpochs, 0);
  } finally {
    await stopAll(newcomer === null ? old : [...old, newcomer]);
  }
});

test('a starting member that would own the topic in its partial view forwards to the live owner once it sees the mesh', { timeout: 60_000 }, async () => {
  const old = await linkedTrio();
  const [a, b] = old as [MeshMember, MeshMember, MeshMember];
  let newcomer: MeshMember | null = null;
  try {
    const topic = topicOwnedBy(a, 'partial-view-');
    const last = (await b.publish(topic, body('before')))!;
    // Alone, or linked to b only, the newcomer would own the topic; in the whole mesh a does.
    let newId = '';
    while (newId === '') {
      const id = uuidv7();
      if (pickOwner(topic, [b.instanceId, id]) === id && pickOwner(topic, [...old.map((m) => m.instanceId), id]) === a.instanceId) newId = id;
    }
    newcomer = await startMember({ instanceId: newId, seeds: [b.address] });
    // Published before any of its links is up.
    const stamp = await newcomer.publish(topic, body('at-start'));
    assert.deepEqual(stamp, { epoch: last.epoch, offset: last.offset + 1 }, 'sequenced by the live owner');
    assert.equal(newcomer.ownerOf(topic), a.instanceId);
    assert.equal(newcomer.stats().sequencer.newEpochs, 0);
  } finally {
    await stopAll(newcomer === null ? old : [...old, newcomer]);
  }
});
