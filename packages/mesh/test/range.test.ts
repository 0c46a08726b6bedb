import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRangeReply, decodeRangeRequest, encodeRangeReply, encodeRangeRequest } from '../src/frame/payloads.js';
import type { MeshMember } from '../src/index.js';
import { startMember, stopAll, waitLinked } from './harness.js';

const EPOCH = 0x1234abcd;

/** A provider whose current ring holds offsets `from`..`to` of (t, EPOCH), message text = its offset. */
function holding(from: number, to: number, size = 0): (topic: string, epoch: number, start: number) => Buffer[] | null {
  return (topic, epoch, start) => {
    if (topic !== 't' || epoch !== EPOCH || start < from || start > to + 1) return null;
    return Array.from({ length: to - start + 1 }, (_, i) => Buffer.from(String(start + i).padEnd(size, ' ')));
  };
}

test('range codecs: round trip; truncated or non-UTF-8 replies are malformed', () => {
  assert.deepEqual(decodeRangeRequest(encodeRangeRequest({ id: 7, epoch: EPOCH, from: 2 ** 40 })), { id: 7, epoch: EPOCH, from: 2 ** 40 });
  const reply = encodeRangeReply({ id: 7, epoch: EPOCH, from: 3, held: true, messages: [Buffer.from('a'), Buffer.from('{"x":1}')] });
  assert.deepEqual(decodeRangeReply(reply)!.messages.map(String), ['a', '{"x":1}']);
  assert.deepEqual(decodeRangeReply(encodeRangeReply({ id: 7, epoch: EPOCH, from: 3, held: false, messages: [] })), { id: 7, epoch: EPOCH, from: 3, held: false, messages: [] });
  assert.equal(decodeRangeReply(reply.subarray(0, reply.length - 1)), null);
  const bad = Buffer.from(reply);
  bad[bad.length - 1] = 0xff;
  assert.equal(decodeRangeReply(bad), null);
  assert.equal(decodeRangeRequest(Buffer.alloc(15)), null);
});

test('fetchRange: the longest answer wins; [] when the asker missed nothing; null when nobody holds the range; all counted', async () => {
  const members: MeshMember[] = [];
  try {
    const asker = await startMember({ nodeId: 'asker' });
    members.push(asker);
    for (const [nodeId, provider] of [['long', holding(5, 9)], ['short', holding(7, 9)], ['none', null]] as const) {
      const m = await startMember({ nodeId, peers: [asker.address] });
      m.onRangeRequest = provider;
      members.push(m);
    }
    await waitLinked(members);
    assert.deepEqual((await asker.fetchRange('t', EPOCH, 5, 2_000))!.map(String), ['5', '6', '7', '8', '9']);
    assert.deepEqual((await asker.fetchRange('t', EPOCH, 8, 2_000))!.map(String), ['8', '9']);
    assert.deepEqual(await asker.fetchRange('t', EPOCH, 10, 2_000), [], 'at the head: nothing missed');
    assert.equal(await asker.fetchRange('t', EPOCH, 2, 2_000), null, 'older than any ring');
    assert.equal(await asker.fetchRange('t', EPOCH + 1, 5, 2_000), null, 'another epoch');
    assert.deepEqual(asker.stats().rangeFetches, { filled: 3, empty: 2, timeout: 0, 'no-peer': 0, busy: 0 });
    assert.deepEqual(members[1]!.stats().rangeRequests, { held: 3, 'not-held': 2 });
  } finally {
    await stopAll(members);
  }
});

test('fetchRange: an answer stops at one frame (1 MiB): a prefix of the range, in order', async () => {
  const asker = await startMember({ nodeId: 'asker' });
  const holder = await startMember({ nodeId: 'holder', peers: [asker.address] });
  holder.onRangeRequest = holding(0, 3, 400_000);
  try {
    await waitLinked([asker, holder]);
    const got = await asker.fetchRange('t', EPOCH, 0, 2_000);
    assert.deepEqual(got!.map((m) => m.toString().trim()), ['0', '1']);
  } finally {
    await stopAll([asker, holder]);
  }
});

test('fetchRange: with no peer that speaks RANGE it answers null at once', async () => {
  const alone = await startMember({ nodeId: 'alone' });
  try {
    assert.equal(await alone.fetchRange('t', EPOCH, 0, 60_000), null);
    assert.equal(alone.stats().rangeFetches['no-peer'], 1);
  } finally {
    await alone.stop();
  }
});
