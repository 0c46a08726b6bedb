import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshStats } from '../src/index.js';
import { body, ChildMember, freePort, startMember, topicOwnedBy, waitFor } from './harness.js';

interface ChildStats {
  stats: MeshStats;
}

test('a peer killed with SIGKILL is detected, and relinked after it restarts; a crashed owner means a new epoch', async () => {
  const port = await freePort();
  const childAddress = `127.0.0.1:${port}`;
  const m = await startMember({ peers: [childAddress] });
  let child = await ChildMember.spawn({ listen: { host: '127.0.0.1', port } });
  try {
    await waitFor(() => m.stats().peers === 1, 5_000, 'first link');
    const firstId = child.instanceId;
    // A topic owned by the child: its sequence dies with it.
    let topic = '';
    for (let i = 0; topic === ''; i++) if (m.ownerOf(`crash-${i}`) === firstId) topic = `crash-${i}`;
    const before = await m.publish(topic, body('1'));
    await child.kill('SIGKILL');
    await waitFor(() => m.stats().peers === 0, 3_000, 'loss detected');
    // With the owner gone this member owns the topic and must start a new epoch (§E.a).
    const during = await m.publish(topic, body('2'));
    assert.notEqual(during!.epoch, before!.epoch);
    assert.equal(during!.offset, 0);

    child = await ChildMember.spawn({ listen: { host: '127.0.0.1', port } });
    await waitFor(() => m.stats().peers === 1, 5_000, 'relinked after restart');
    assert.ok(m.stats().reconnects >= 1);
    const row = m.members().find((r) => r.connected)!;
    assert.equal(row.instance_id, child.instanceId);
    assert.notEqual(child.instanceId, firstId);
    const s = await child.call<ChildStats>({ cmd: 'stats' });
    assert.equal(s.stats.peers, 1);
    // Traffic flows again: the restarted child subscribes and receives.
    const own = topicOwnedBy(m, 'again-');
    await child.call({ cmd: 'interest', topic: own });
    await new Promise((r) => setTimeout(r, 100));
    await m.publish(own, body('hello'));
    await waitFor(() => child.deliveries.some((d) => d.topic === own), 3_000, 'delivery to restarted child');
  } finally {
    await child.kill('SIGKILL');
    await m.stop();
  }
});

test('PUBLISH frames the dead owner never credited are re-sent to the new owner (§E.b.7)', async () => {
  const port = await freePort();
  // The crash is seen as a closed socket. A busy, CPU-starved test machine must not also trip the
  // short test heartbeat and close the link early: that would re-send before the owner died.
  const tuning = { deadAfterMs: 60_000 };
  const m = await startMember({ peers: [`127.0.0.1:${port}`], tuning });
  const child = await ChildMember.spawn({ listen: { host: '127.0.0.1', port }, tuning });
  try {
    await waitFor(() => m.stats().peers === 1, 5_000, 'link');
    let topic = '';
    for (let i = 0; topic === ''; i++) if (m.ownerOf(`resend-${i}`) === child.instanceId) topic = `resend-${i}`;
    const N = 20_000;
    let resolved = 0;
    const all = Array.from({ length: N }, (_, i) => m.publish(topic, body(`${i}`)).then((s) => (resolved++, s)));
    await waitFor(() => resolved >= 50, 5_000, 'first acknowledgements');
    assert.equal(m.stats().linksClosed, 0, 'the link to the owner was up until the crash');
    await child.kill('SIGKILL');
    const stamps = await Promise.all(all);
    assert.equal(stamps.length, N);
    const s = m.stats().sequencer;
    assert.ok(s.resent > 0, `re-sent ${s.resent}`);
    // The tail was sequenced here, under a new epoch, without gaps from offset 0.
    const local = stamps.filter((x) => x!.epoch !== stamps[0]!.epoch).map((x) => x!.offset);
    assert.ok(local.length > 0);
    assert.deepEqual(local, Array.from({ length: local.length }, (_, i) => i));
  } finally {
    await child.kill('SIGKILL');
    await m.stop();
  }
});
