import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import type { MeshStats } from '../src/index.js';
import { ChildMember, waitFor } from './harness.js';

/** Private /30 addresses that exist only inside this test's two namespaces. */
const ADDR_A = '10.255.0.1';
const ADDR_B = '10.255.0.2';
const PORT = 7_931;
const tag = String(process.pid % 100_000);
const NS_A = `wse-mesh-a-${tag}`;
const NS_B = `wse-mesh-b-${tag}`;
const VETH_A = `wma${tag}`;
const VETH_B = `wmb${tag}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'ignore' });
}

function netnsAvailable(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return null;
  } catch {
    return '`ip netns` is unavailable';
  }
}

function setup(): void {
  ip('netns', 'add', NS_A);
  ip('netns', 'add', NS_B);
  ip('link', 'add', VETH_A, 'type', 'veth', 'peer', 'name', VETH_B);
  ip('link', 'set', VETH_A, 'netns', NS_A);
  ip('link', 'set', VETH_B, 'netns', NS_B);
  ip('-n', NS_A, 'addr', 'add', `${ADDR_A}/30`, 'dev', VETH_A);
  ip('-n', NS_B, 'addr', 'add', `${ADDR_B}/30`, 'dev', VETH_B);
  for (const [ns, dev] of [[NS_A, VETH_A], [NS_B, VETH_B]] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
}

function cleanup(): void {
  for (const ns of [NS_A, NS_B]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // already gone
    }
  }
}

interface ChildView {
  stats: MeshStats;
  deadLetters: number;
}

const unavailable = netnsAvailable();

test('partition: a veth link taken down is detected dead with a DLQ; back up, members relink and RESYNC', { skip: unavailable ?? false }, async () => {
  cleanup();
  const tuning = { pingIntervalMs: 200, deadAfterMs: 1_000, backoffInitialMs: 100, backoffMaxMs: 400 };
  let a: ChildMember | null = null;
  let b: ChildMember | null = null;
  try {
    setup();
    a = await ChildMember.spawn({ nodeId: 'ns-a', listen: { host: ADDR_A, port: PORT }, peers: [`${ADDR_B}:${PORT}`], tuning }, ['ip', 'netns', 'exec', NS_A]);
    b = await ChildMember.spawn({ nodeId: 'ns-b', listen: { host: ADDR_B, port: PORT }, peers: [`${ADDR_A}:${PORT}`], tuning }, ['ip', 'netns', 'exec', NS_B]);
    const view = (m: ChildMember): Promise<ChildView> => m.call<ChildView>({ cmd: 'stats' });
    const peersOf = async (m: ChildMember): Promise<number> => (await view(m)).stats.peers;
    let linked = false;
    for (let i = 0; i < 100 && !linked; i++) {
      linked = (await peersOf(a)) === 1 && (await peersOf(b)) === 1;
      if (!linked) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(linked, 'members linked across the veth pair');

    let topic = '';
    for (let i = 0; topic === ''; i++) if ((await a.call<string>({ cmd: 'owner', topic: `part-${i}` })) === a.instanceId) topic = `part-${i}`;
    await b.call({ cmd: 'interest', topic });
    await new Promise((r) => setTimeout(r, 300));
    await a.call({ cmd: 'publish', topic, body: '{"c":"before"}' });
    await waitFor(() => b!.deliveries.length === 1, 3_000, 'delivery before the partition');

    ip('-n', NS_A, 'link', 'set', VETH_A, 'down');
    // Queued while the link is dead: these cannot be written and end in the dead-letter queue.
    await a.call({ cmd: 'publish', topic, body: JSON.stringify({ c: 'x'.repeat(1000) }), count: 2_000 });
    let aView = await view(a);
    for (let i = 0; i < 60 && aView.stats.peers !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      aView = await view(a);
    }
    assert.equal(aView.stats.peers, 0, 'dead peer detected on a');
    assert.ok(aView.stats.deadPeers >= 1);
    assert.ok(aView.deadLetters > 0 && aView.stats.drops['link-closed'] > 0, `DLQ holds ${aView.deadLetters}`);
    let bView = await view(b);
    for (let i = 0; i < 60 && bView.stats.peers !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      bView = await view(b);
    }
    assert.equal(bView.stats.deadPeers, 1, 'dead peer detected on b');

    ip('-n', NS_A, 'link', 'set', VETH_A, 'up');
    let relinked = false;
    for (let i = 0; i < 100 && !relinked; i++) {
      relinked = (await peersOf(a)) === 1 && (await peersOf(b)) === 1;
      if (!relinked) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(relinked, 'relinked after the partition healed');
    assert.ok((await view(a)).stats.reconnects + (await view(b)).stats.reconnects >= 1);
    // b's interest came back with the post-handshake RESYNC: new MSGs reach it.
    await new Promise((r) => setTimeout(r, 200));
    const before = b.deliveries.length;
    await a.call({ cmd: 'publish', topic, body: '{"c":"after"}' });
    await waitFor(() => b!.deliveries.slice(before).some((d) => d.stamped.includes('"after"')), 3_000, 'delivery after RESYNC');
  } finally {
    await a?.kill('SIGKILL');
    await b?.kill('SIGKILL');
    cleanup();
  }
});
