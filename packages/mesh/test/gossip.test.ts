import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshMember } from '../src/index.js';
import { connectedPeers, freePort, startMember, stopAll, waitFor, waitLinked } from './harness.js';

test('gossip: 5 members started from one seed converge to a full mesh', async () => {
  const seed = await startMember({ nodeId: 'seed' });
  const others: MeshMember[] = [];
  try {
    for (let i = 0; i < 4; i++) others.push(await startMember({ nodeId: `n${i}`, seeds: [seed.address] }));
    const all = [seed, ...others];
    await waitLinked(all, 8_000);
    for (const m of all) assert.equal(connectedPeers(m).length, 4);
    // members() reports node ids and addresses learned through HELLO.
    const rows = others[0]!.members().filter((r) => r.connected);
    assert.deepEqual(new Set(rows.map((r) => r.node_id)), new Set(['seed', 'n1', 'n2', 'n3']));
    assert.ok(rows.every((r) => all.some((m) => m.address === r.address)));
  } finally {
    await stopAll([seed, ...others]);
  }
});

/** A member on every interface that advertises 127.0.0.2, so 127.0.0.1 is another name for it. */
async function twoNamedMember(nodeId: string, peers: string[] = []): Promise<{ member: MeshMember; alias: string }> {
  const port = await freePort();
  const member = await startMember({ nodeId, listen: { host: '0.0.0.0', port }, advertise: `127.0.0.2:${port}`, peers });
  return { member, alias: `127.0.0.1:${port}` };
}

test('gossip: an address that reached a member under another name is not passed on', async () => {
  // B knows A by its loopback alias (as a worker knows its siblings); C learns the mesh from B.
  const a = await twoNamedMember('a');
  const b = await startMember({ nodeId: 'b', peers: [a.alias] });
  let c: MeshMember | undefined;
  try {
    await waitLinked([a.member, b]);
    c = await startMember({ nodeId: 'c', seeds: [b.address] });
    await waitLinked([a.member, b, c]);
    // C linked to A through B's gossip, so it has read the whole of B's peer list by now.
    assert.deepEqual(Object.keys(c.stats().breakers).sort(), [a.member.address, b.address].sort());
    assert.ok(c.members().every((r) => r.connected), 'no row for an alias');
    assert.ok(b.members().every((r) => r.connected), "B's alias for A counts as reached");
  } finally {
    await stopAll([a.member, b, ...(c === undefined ? [] : [c])]);
  }
});

test('gossip: a configured peer that is this member itself is dropped after one dial', async () => {
  const port = await freePort();
  const alias = `127.0.0.1:${port}`;
  const self = await startMember({ nodeId: 'self', listen: { host: '0.0.0.0', port }, advertise: `127.0.0.2:${port}`, peers: [alias] });
  const other = await startMember({ nodeId: 'other', peers: [alias] });
  try {
    await waitLinked([self, other]);
    await waitFor(() => !(alias in self.stats().breakers), 5_000, 'the self alias to be forgotten');
    assert.deepEqual(self.members().map((r) => r.node_id), ['other']);
  } finally {
    await stopAll([self, other]);
  }
});
