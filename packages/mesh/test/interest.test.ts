import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameType } from '../src/frame/constants.js';
import { InterestSet } from '../src/interest/interest-set.js';
import { LocalInterest } from '../src/interest/local-interest.js';
import { body, frame, helloFrame, RawPeer, startMember, stopAll, topicOwnedBy, waitFor, waitLinked } from './harness.js';

test('local interest is refcounted; interest sets match exact topics and globs', () => {
  const li = new LocalInterest();
  assert.equal(li.add('a'), true);
  assert.equal(li.add('a'), false);
  assert.equal(li.remove('a'), false);
  assert.equal(li.remove('a'), true);
  assert.equal(li.remove('a'), false);
  const s = new InterestSet();
  s.add('chat/1');
  s.add('news.*');
  s.add('r?om');
  assert.ok(s.matches('chat/1') && s.matches('news.') && s.matches('news.sport.x') && s.matches('room'));
  assert.ok(!s.matches('chat/2') && !s.matches('news') && !s.matches('rooom'));
  s.remove('news.*');
  assert.ok(!s.matches('news.sport'));
});

test('MSGs go only to interested members; SUB/UNSUB reach peers', async () => {
  const a = await startMember();
  const b = await startMember({ peers: [a.address] });
  const c = await startMember({ peers: [a.address, b.address] });
  try {
    await waitLinked([a, b, c]);
    // Topics owned by a: the owner delivers locally whatever it sequences, so ownership is pinned.
    const exact = topicOwnedBy(a, 'only-b/');
    const globbed = topicOwnedBy(a, 'glob.');
    for (const m of [b, c]) assert.equal(m.ownerOf(exact), a.instanceId);
    const seen = { b: [] as string[], c: [] as string[] };
    b.onDeliver = (t) => seen.b.push(t);
    c.onDeliver = (t) => seen.c.push(t);
    b.addInterest(exact);
    b.addInterest('glob.*');
    await new Promise((r) => setTimeout(r, 100));
    for (const m of [a, b, c]) {
      await m.publish(exact, body('1'));
      await m.publish(globbed, body('2'));
    }
    await waitFor(() => seen.b.length === 6, 3_000, 'b receives all six');
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen.c, []);
    assert.equal(a.stats().sequencer.sequenced, 6);

    b.removeInterest(exact);
    await new Promise((r) => setTimeout(r, 100));
    await a.publish(exact, body('3'));
    await a.publish(globbed, body('4'));
    await waitFor(() => seen.b.length === 7, 3_000, 'glob still routed');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.b.filter((t) => t === exact).length, 3);
  } finally {
    await stopAll([a, b, c]);
  }
});

test('no MSG frame is written to an uninterested raw peer; send-all before its first RESYNC', async () => {
  const m = await startMember();
  try {
    const peer = await RawPeer.connect(m.address);
    // Without INTEREST_ROUTING and without RESYNC the peer gets everything (§6 default).
    peer.write(helloFrame({ version: 1, instanceId: '00000000-raw', caps: 0x08, info: null, auth: null }));
    await waitFor(() => m.stats().peers === 1, 2_000, 'link');
    await m.publish('t1', body('x'));
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.MSG && f.topic === 't1'), 2_000, 'MSG before RESYNC');
    // Now it declares interest in t2 only.
    peer.write(frame(FrameType.RESYNC, 0, null, Buffer.from('t2')));
    peer.write(frame(FrameType.PING, 0, null, null));
    await waitFor(() => peer.frames.filter((f) => f.type === FrameType.PONG).length > 0, 2_000, 'RESYNC processed');
    await m.publish('t1', body('y'));
    await m.publish('t2', body('z'));
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.MSG && f.topic === 't2'), 2_000, 'MSG for t2');
    assert.equal(peer.frames.filter((f) => f.type === FrameType.MSG && f.topic === 't1').length, 1);
    // DRAIN: an explicit empty set until the next RESYNC (§12 note 5).
    peer.write(frame(FrameType.DRAIN, 0, null, null));
    peer.write(frame(FrameType.PING, 0, null, null));
    await waitFor(() => peer.frames.filter((f) => f.type === FrameType.PONG).length > 1, 2_000, 'DRAIN processed');
    await m.publish('t2', body('after-drain'));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(peer.frames.filter((f) => f.type === FrameType.MSG && f.topic === 't2').length, 1);
    peer.destroy();
  } finally {
    await m.stop();
  }
});

test('a (re)connected peer receives a RESYNC with the full local interest', async () => {
  const m = await startMember();
  m.addInterest('x');
  m.addInterest('y.*');
  try {
    const peer = await RawPeer.connect(m.address);
    peer.write(helloFrame({ version: 1, instanceId: '00000000-raw2', caps: 0x01, info: null, auth: null }));
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.RESYNC), 2_000, 'RESYNC');
    const r = peer.frames.find((f) => f.type === FrameType.RESYNC)!;
    assert.equal(r.flags, 0);
    assert.deepEqual(r.payload.toString().split('\n').sort(), ['x', 'y.*']);
    m.addInterest('z');
    m.removeInterest('x');
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.UNSUB), 2_000, 'UNSUB');
    assert.ok(peer.frames.some((f) => f.type === FrameType.SUB && f.topic === 'z'));
    assert.ok(peer.frames.some((f) => f.type === FrameType.UNSUB && f.topic === 'x'));
    peer.destroy();
  } finally {
    await stopAll([m]);
  }
});
