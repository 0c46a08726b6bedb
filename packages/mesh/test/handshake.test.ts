import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Cap, FrameType } from '../src/frame/constants.js';
import { decodeHello } from '../src/frame/payloads.js';
import { helloMac } from '../src/link/auth.js';
import { connectedPeers, frame, freePort, helloFrame, newMember, RawPeer, startMember, stopAll, waitFor, waitLinked } from './harness.js';

const LOW_ID = '00000000-0000-7000-8000-000000000001';

test('handshake: both sides link, negotiate capabilities and report member info', async () => {
  const a = await startMember({ nodeId: 'node-a', workerIndex: 1, workerCount: 2, compression: false });
  const b = await startMember({ nodeId: 'node-b', peers: [a.address] });
  try {
    await waitLinked([a, b]);
    const rowA = b.members().find((r) => r.instance_id === a.instanceId)!;
    assert.deepEqual(
      { node: rowA.node_id, idx: rowA.worker_index, count: rowA.worker_count, addr: rowA.address, state: rowA.state },
      { node: 'node-a', idx: 1, count: 2, addr: a.address, state: 'up' },
    );
    // a has compression off: the AND drops COMPRESSION on both sides.
    assert.equal(rowA.capabilities & Cap.COMPRESSION, 0);
    assert.equal(rowA.capabilities & Cap.SEQUENCER, Cap.SEQUENCER);
    assert.equal(a.members().find((r) => r.instance_id === b.instanceId)!.capabilities, rowA.capabilities);
  } finally {
    await stopAll([a, b]);
  }
});

test('bad magic: the link is closed without a HELLO reply', async () => {
  const m = await startMember();
  try {
    const peer = await RawPeer.connect(m.address);
    const bad = helloFrame({ version: 1, instanceId: LOW_ID, caps: 0x3f, info: null, auth: null });
    bad.write('XSE', 12, 'latin1');
    peer.write(bad);
    await peer.closedPromise();
    assert.equal(peer.frames.length, 0);
    assert.equal(m.stats().peers, 0);
    assert.equal(m.stats().handshakeFailures, 1);
  } finally {
    await m.stop();
  }
});

test('wrong version (0) is refused; a higher version negotiates down to 1', async () => {
  const m = await startMember();
  try {
    const old = await RawPeer.connect(m.address);
    old.write(helloFrame({ version: 0, instanceId: LOW_ID, caps: 0x3f, info: null, auth: null }));
    await old.closedPromise();
    assert.equal(old.frames.length, 0);

    const newer = await RawPeer.connect(m.address);
    newer.write(helloFrame({ version: 7, instanceId: LOW_ID, caps: 0x3f, info: null, auth: null }));
    await waitFor(() => newer.frames.some((f) => f.type === FrameType.HELLO), 2_000, 'HELLO reply');
    const reply = decodeHello(newer.frames[0]!.payload, Cap.MEMBER_INFO, Cap.AUTH);
    assert.ok(typeof reply !== 'string' && reply.version === 1 && reply.instanceId === m.instanceId);
    newer.destroy();
  } finally {
    await m.stop();
  }
});

test('cluster secret: a member without it or with a wrong one is refused and counted', async () => {
  const a = await startMember({ clusterSecret: 's3cret' });
  const noSecret = await startMember({ peers: [a.address] });
  const wrong = await startMember({ peers: [a.address], clusterSecret: 'nope' });
  const right = await startMember({ peers: [a.address], clusterSecret: 's3cret' });
  try {
    await waitLinked([a, right]);
    await waitFor(() => a.stats().authFailures >= 2, 3_000, 'auth failures on a');
    assert.deepEqual(connectedPeers(a), [right.instanceId]);
    assert.equal(noSecret.stats().peers, 0);
    assert.equal(wrong.stats().peers, 0);

    // A captured HELLO older than 60 s is refused (replay window, §E.d).
    const peer = await RawPeer.connect(a.address);
    const ts = Date.now() - 61_000;
    peer.write(
      helloFrame({
        version: 1,
        instanceId: LOW_ID,
        caps: 0x7f,
        info: { nodeId: 'n', workerIndex: 0, workerCount: 1, address: '' },
        auth: { tsMs: ts, mac: helloMac('s3cret', LOW_ID, 'n', ts) },
      }),
    );
    await peer.closedPromise();
    assert.equal(peer.frames.length, 0);
  } finally {
    await stopAll([a, noSecret, wrong, right]);
  }
});

test('tiebreak: two members dialing each other at once end with exactly one link', async () => {
  const [pa, pb] = [await freePort(), await freePort()];
  const addrA = `127.0.0.1:${pa}`;
  const addrB = `127.0.0.1:${pb}`;
  const a = newMember({ listen: { host: '127.0.0.1', port: pa }, peers: [addrB] });
  const b = newMember({ listen: { host: '127.0.0.1', port: pb }, peers: [addrA] });
  await Promise.all([a.start(), b.start()]);
  try {
    await waitLinked([a, b]);
    await new Promise((r) => setTimeout(r, 300));
    for (const m of [a, b]) assert.deepEqual(connectedPeers(m).length, 1, 'one link per pair');
    // The losing dial was refused at handshake time; the surviving link never churned.
    assert.equal(a.stats().linksClosed + b.stats().linksClosed, 0);
    assert.equal(a.stats().linksOpened, 1);
  } finally {
    await stopAll([a, b]);
  }
});

test('a raw dialer with a higher id gets the acceptor HELLO then a close (dial-back, §E.c)', async () => {
  const m = await startMember();
  try {
    const peer = await RawPeer.connect(m.address);
    peer.write(helloFrame({ version: 1, instanceId: 'ffffffff-high', caps: 0x3f, info: null, auth: null }));
    await peer.closedPromise();
    assert.equal(peer.frames.length, 1);
    assert.equal(peer.frames[0]!.type, FrameType.HELLO);
    assert.equal(m.stats().peers, 0);
  } finally {
    await m.stop();
  }
});

test('duplicate: a second link from the same instance id is closed', async () => {
  const m = await startMember();
  try {
    const first = await RawPeer.connect(m.address);
    first.write(helloFrame({ version: 1, instanceId: LOW_ID, caps: 0x01, info: null, auth: null }));
    await waitFor(() => m.stats().peers === 1, 2_000, 'first link');
    const second = await RawPeer.connect(m.address);
    second.write(helloFrame({ version: 1, instanceId: LOW_ID, caps: 0x01, info: null, auth: null }));
    await second.closedPromise();
    assert.equal(second.frames.length, 0);
    assert.equal(m.stats().peers, 1);
    first.destroy();
  } finally {
    await m.stop();
  }
});

test('heartbeat: a peer that goes silent is detected dead; PINGs are answered', async () => {
  const m = await startMember({ tuning: { pingIntervalMs: 100, deadAfterMs: 400 } });
  try {
    const peer = await RawPeer.connect(m.address);
    peer.write(helloFrame({ version: 1, instanceId: LOW_ID, caps: 0x01, info: null, auth: null }));
    peer.write(frame(FrameType.PING, 0, null, null));
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.PONG), 2_000, 'PONG');
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.PING), 2_000, 'PING from member');
    const t0 = Date.now();
    await peer.closedPromise();
    const took = Date.now() - t0;
    assert.ok(took >= 250 && took < 2_000, `closed after ${took} ms`);
    assert.equal(m.stats().deadPeers, 1);
  } finally {
    await m.stop();
  }
});

test('heartbeat: a member whose own event loop was blocked keeps its healthy links', async () => {
  const a = await startMember();
  const b = await startMember({ peers: [a.address] });
  try {
    await waitLinked([a, b]);
    // Longer than deadAfterMs (600 ms in these tests): the first tick afterwards runs before the
    // sockets are read, and sees every link silent for the whole block.
    const until = Date.now() + 1_500;
    while (Date.now() < until);
    // Both members' overdue heartbeat ticks run before this timer does.
    await delay(1);
    assert.equal(a.stats().deadPeers + b.stats().deadPeers, 0);
    assert.equal(a.stats().peers, 1);
    assert.equal(b.stats().peers, 1);
  } finally {
    await stopAll([a, b]);
  }
});

test('SHUTDOWN closes the link at the peer, which keeps the static address', async () => {
  const a = await startMember();
  const b = await startMember({ peers: [a.address] });
  try {
    await waitLinked([a, b]);
    await a.stop();
    await waitFor(() => b.stats().peers === 0, 2_000, 'b sees the link closed');
    assert.ok(b.members().some((r) => r.address === a.address && !r.connected));
  } finally {
    await stopAll([a, b]);
  }
});
