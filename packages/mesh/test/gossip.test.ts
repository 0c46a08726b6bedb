import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MeshMember } from '../src/index.js';
import { connectedPeers, startMember, stopAll, waitLinked } from './harness.js';

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
