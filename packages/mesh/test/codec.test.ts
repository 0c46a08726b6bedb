import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameType, Flag, MAX_FRAME } from '../src/frame/constants.js';
import { decompressCapped, maybeCompress } from '../src/frame/compression.js';
import { FrameDecoder, FrameView } from '../src/frame/decoder.js';
import { encodeFrame, encodeMsg } from '../src/frame/encoder.js';
import * as P from '../src/frame/payloads.js';
import { GrowableSink } from '../src/frame/sink.js';
import { buildResync, parseResync } from '../src/interest/resync.js';
import { buildPresenceFull, parsePresenceFull } from '../src/presence/presence-codec.js';
import zstd from 'zstd-napi/binding.js';
import { encodeStampedMsg, fitsAfterStamp, isJsonObjectText, stampedLength, stampHead, weaveStamp } from '../src/sequencer/stamp.js';

interface Decoded {
  type: number;
  flags: number;
  topic: string;
  payload: Buffer;
  trailer: [number, number] | null;
}

function decodeAll(bytes: Buffer): Decoded[] {
  const out: Decoded[] = [];
  const view = new FrameView();
  const dec = new FrameDecoder({
    onRecord(buf, start, end) {
      assert.ok(view.parse(buf, start, end));
      out.push({
        type: view.type,
        flags: view.flags,
        topic: buf.toString('utf8', view.topicStart, view.topicStart + view.topicLen),
        payload: view.payloadCopy(),
        trailer: view.hasTrailer ? [view.epoch, view.offset] : null,
      });
      return true;
    },
  });
  assert.ok(dec.push(bytes));
  return out;
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
}

test('MSG with trailer matches the MESH.md §3 example byte for byte', () => {
  const sink = new GrowableSink();
  encodeMsg(sink, Buffer.from('t'), Buffer.from('{"c":"U"}'), Flag.HAS_RECOVERY, 0xabcd, 42);
  const expected = hex('00 00 00 1E | 01 02 01 00 09 00 00 00 | 74 | 7B 22 63 22 3A 22 55 22 7D | CD AB 00 00 2A 00 00 00 00 00 00 00');
  assert.deepEqual(sink.take(), expected);
  const [f] = decodeAll(expected);
  assert.deepEqual(f!.trailer, [0xabcd, 42]);
  assert.equal(f!.payload.toString(), '{"c":"U"}');
});

test('HELLO matches the MESH.md §3 example and decodes back', () => {
  const payload = P.encodeHello({ version: 1, instanceId: 'abc', caps: 0x0f, info: null, auth: null });
  const sink = new GrowableSink();
  encodeFrame(sink, FrameType.HELLO, 0, null, payload);
  assert.deepEqual(sink.take(), hex('00 00 00 17 | 04 00 00 00 0F 00 00 00 | 57 53 45 00 01 00 03 00 61 62 63 0F 00 00 00'));
  const h = P.decodeHello(payload, 0x20, 0x40);
  assert.deepEqual(h, { version: 1, instanceId: 'abc', caps: 0x0f, info: null, auth: null });
});

test('HELLO refusal byte: after the auth block, or after member info without one; absent reads as none', () => {
  const info = { nodeId: 'node-a', workerIndex: 0, workerCount: 1, address: '10.0.0.1:9999' };
  const withAuth: P.Hello = { version: 1, instanceId: 'id-1', caps: 0x7f, info, auth: { tsMs: 1, mac: Buffer.alloc(32, 7) }, refusal: P.HelloRefusal.DUPLICATE };
  const noAuth: P.Hello = { version: 1, instanceId: 'id-1', caps: 0x3f, info, auth: null, refusal: P.HelloRefusal.DUPLICATE };
  for (const hello of [withAuth, noAuth]) {
    const payload = P.encodeHello(hello);
    assert.deepEqual(P.decodeHello(payload, 0x20, 0x40), hello);
    assert.equal(payload.length, P.encodeHello({ ...hello, refusal: P.HelloRefusal.NONE }).length + 1);
    const plain = P.decodeHello(payload.subarray(0, payload.length - 1), 0x20, 0x40);
    assert.ok(typeof plain !== 'string' && plain.refusal === undefined);
  }
});

test('HELLO with member info and auth block round-trips; truncated block is ignored', () => {
  const hello: P.Hello = {
    version: 1,
    instanceId: 'id-1',
    caps: 0x7f,
    info: { nodeId: 'node-a', workerIndex: 3, workerCount: 8, address: '10.0.0.1:9999' },
    auth: { tsMs: 1_700_000_000_123, mac: Buffer.alloc(32, 7) },
  };
  const payload = P.encodeHello(hello);
  assert.deepEqual(P.decodeHello(payload, 0x20, 0x40), hello);
  const truncated = payload.subarray(0, payload.length - 45);
  const d = P.decodeHello(truncated, 0x20, 0x40);
  assert.ok(typeof d !== 'string');
  assert.equal(d.info, null);
  assert.equal(P.decodeHello(Buffer.from('XXXX0000000000000'), 0x20, 0x40), 'bad-magic');
  assert.equal(P.decodeHello(payload.subarray(0, 10), 0x20, 0x40), 'truncated');
});

test('every frame type round-trips through encoder and streaming decoder', () => {
  const sink = new GrowableSink();
  const t = Buffer.from('room/1');
  const cases: [number, number, Buffer | null, Buffer | null][] = [
    [FrameType.MSG, 0, t, Buffer.from('{"c":1}')],
    [FrameType.PING, 0, null, null],
    [FrameType.PONG, 0, null, null],
    [FrameType.HELLO, 0, null, P.encodeHello({ version: 1, instanceId: 'x', caps: 1, info: null, auth: null })],
    [FrameType.SHUTDOWN, 0, null, null],
    [FrameType.SUB, 0, Buffer.from('a.*'), null],
    [FrameType.UNSUB, 0, Buffer.from('a.*'), null],
    [FrameType.RESYNC, Flag.CONTINUATION, null, Buffer.from('a\nb')],
    [FrameType.PEER_ANNOUNCE, 0, Buffer.from('127.0.0.1:1'), null],
    [FrameType.PEER_LIST, 0, null, P.encodePeerList(['127.0.0.1:1', '[::1]:2'])],
    [FrameType.PRESENCE_UPDATE, 0, t, P.encodePresenceUpdate({ action: 2, updatedAt: 5, user: 'u', data: '{"a":1}' })],
    [FrameType.PRESENCE_FULL, 0, null, Buffer.from('{}')],
    [FrameType.DRAIN, 0, null, null],
    [FrameType.PUBLISH, Flag.BOUNCED, t, P.encodePublish('c1', Buffer.from('{"c":2}'))],
    [FrameType.PUBACK, 0, t, P.encodePuback({ cid: 'c1', status: 0, epoch: 0xdeadbeef, offset: 2 ** 40 + 3 })],
    [FrameType.SEQ_CLAIM, 0, t, P.encodeU32(77)],
    [FrameType.SEQ_POSITION, 0, t, P.encodeSeqPosition({ claimId: 77, flags: 3, epoch: 9, offset: 10, stamper: 'abc' })],
    [FrameType.CREDIT, 0, null, P.encodeU32(256)],
  ];
  for (const [type, flags, topic, payload] of cases) encodeFrame(sink, type, flags, topic, payload);
  const bytes = sink.take();
  // Header-only frames are exactly `type 00 0000 00000000` (§3).
  assert.deepEqual(bytes.subarray(4 + 8 + 6 + 7, 4 + 8 + 6 + 7 + 12), hex('00 00 00 08 02 00 00 00 00 00 00 00'));
  // Any split of the stream decodes to the same frames.
  for (const step of [1, 3, 7, 64, bytes.length]) {
    const got: number[] = [];
    const view = new FrameView();
    const dec = new FrameDecoder({
      onRecord(b, s, e) {
        assert.ok(view.parse(b, s, e));
        got.push(view.type);
        return true;
      },
    });
    for (let i = 0; i < bytes.length; i += step) assert.ok(dec.push(bytes.subarray(i, i + step)));
    assert.deepEqual(got, cases.map((c) => c[0]));
    assert.equal(dec.buffered, 0);
  }
  const frames = decodeAll(bytes);
  assert.deepEqual(P.decodePeerList(frames[9]!.payload), ['127.0.0.1:1', '[::1]:2']);
  assert.deepEqual(P.decodePresenceUpdate(frames[10]!.payload), { action: 2, updatedAt: 5, user: 'u', data: '{"a":1}' });
  assert.deepEqual(P.decodePublish(frames[13]!.payload), { cid: 'c1', body: Buffer.from('{"c":2}') });
  assert.equal(frames[13]!.flags, Flag.BOUNCED);
  assert.deepEqual(P.decodePuback(frames[14]!.payload), { cid: 'c1', status: 0, epoch: 0xdeadbeef, offset: 2 ** 40 + 3 });
  assert.equal(P.decodeU32(frames[15]!.payload), 77);
  assert.deepEqual(P.decodeSeqPosition(frames[16]!.payload), { claimId: 77, flags: 3, epoch: 9, offset: 10, stamper: 'abc' });
  assert.equal(P.decodeU32(frames[17]!.payload), 256);
});

test('decoder rejects L = 0 and L > 1 MiB; parse rejects short frames; extra bytes are ignored', () => {
  for (const len of [0, MAX_FRAME + 1]) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(len);
    const dec = new FrameDecoder({ onRecord: () => true });
    assert.equal(dec.push(b), false);
    assert.ok(dec.failed);
  }
  const view = new FrameView();
  const short = hex('01 00 05 00 00 00 00 00 61'); // declares a 5-byte topic, carries 1
  assert.equal(view.parse(short, 0, short.length), false);
  const trailing = hex('02 00 00 00 00 00 00 00 ff ff'); // PING with 2 extra bytes
  assert.ok(view.parse(trailing, 0, trailing.length));
  assert.equal(view.type, FrameType.PING);
  const noTrailer = hex('01 02 01 00 00 00 00 00 74'); // HAS_RECOVERY without the 12 trailer bytes
  assert.equal(view.parse(noTrailer, 0, noTrailer.length), false);
});

test('PeerList reads at most 256 entries and stops at a truncated one', () => {
  const many = P.encodePeerList(Array.from({ length: 300 }, (_, i) => `10.0.0.${i % 250}:${1000 + i}`));
  assert.equal(P.decodePeerList(many).length, 256);
  const full = P.encodePeerList(['1.1.1.1:1', '2.2.2.2:2']);
  assert.deepEqual(P.decodePeerList(full.subarray(0, full.length - 2)), ['1.1.1.1:1']);
});

test('zstd: compresses only when it helps; decompression is capped at 1 MiB', () => {
  assert.equal(maybeCompress(Buffer.alloc(100, 1)), null);
  const big = Buffer.from(JSON.stringify({ c: 'x'.repeat(5000) }));
  const z = maybeCompress(big)!;
  assert.ok(z.length < big.length);
  assert.deepEqual(decompressCapped(z), big);
  assert.equal(decompressCapped(maybeCompress(Buffer.alloc(MAX_FRAME, 0x61))!)?.length, MAX_FRAME);
  const over = Buffer.alloc(MAX_FRAME + 10, 0x61);
  const out = Buffer.alloc(over.length);
  const n = new zstd.CCtx().compress(out, over, 1);
  assert.equal(decompressCapped(out.subarray(0, n)), null);
  assert.equal(decompressCapped(Buffer.from('not zstd at all')), null);
});

test('RESYNC chunks split at newline boundaries; first replaces, rest continue', () => {
  const topics = Array.from({ length: 100 }, (_, i) => `topic-${i}`);
  const { chunks } = buildResync(topics, 64);
  assert.ok(chunks.length > 1);
  assert.equal(chunks[0]!.continuation, false);
  assert.ok(chunks.slice(1).every((c) => c.continuation));
  assert.ok(chunks.every((c) => c.payload.length <= 64));
  assert.deepEqual(chunks.flatMap((c) => parseResync(c.payload)), topics);
  const empty = buildResync([]);
  assert.equal(empty.chunks.length, 1);
  assert.equal(empty.chunks[0]!.payload.length, 0);
  assert.equal(buildResync(['a\nb', 'ok']).skipped, 1);
  assert.deepEqual(parseResync(Buffer.from('a\n\nb\n')), ['a', 'b']);
});

test('stamp weaving puts tp/e/o right after the opening brace', () => {
  const head = stampHead('chat/1', 0xabc);
  assert.equal(weaveStamp(head, 7, Buffer.from('{"c":"x","v":1}')).toString(), '{"tp":"chat/1","e":"00000abc","o":7,"c":"x","v":1}');
  assert.deepEqual(JSON.parse(weaveStamp(head, 0, Buffer.from('  { }')).toString()), { tp: 'chat/1', e: '00000abc', o: 0 });
  assert.ok(isJsonObjectText(Buffer.from(' {"c":1} ')));
  assert.ok(!isJsonObjectText(Buffer.from('[1]')));
  assert.ok(!isJsonObjectText(Buffer.from('{')));
  assert.ok(fitsAfterStamp(MAX_FRAME - 68 - 30, 10));
  assert.ok(!fitsAfterStamp(MAX_FRAME - 68 - 29, 10));
});

test('a MSG woven straight into the sink equals one encoded from the woven buffer', () => {
  const topic = Buffer.from('chat/1');
  const head = stampHead('chat/1', 0xabc);
  const bodies = ['{"c":"x","v":1}', '{}', ' { } ', '{"c":"' + 'y'.repeat(300) + '"}', ' '.repeat(80) + '{"c":"deep"}', '\n\t{"c":"é"}'];
  const offsets = [0, 9, 10, 99, 1_000_000, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
  for (const text of bodies) {
    for (const offset of offsets) {
      const body = Buffer.from(text);
      const woven = weaveStamp(head, offset, body);
      assert.equal(woven.length, stampedLength(head, offset, body));
      const expected = new GrowableSink();
      encodeMsg(expected, topic, woven, Flag.HAS_RECOVERY, 0xabc, offset);
      const direct = new GrowableSink();
      direct.reserve(7); // start off position 0, as inside a link's chunk
      direct.commit(7);
      const size = encodeStampedMsg(direct, topic, head, offset, body, woven.length, Flag.HAS_RECOVERY, 0xabc);
      assert.equal(size, expected.pos);
      assert.deepEqual(direct.take().subarray(7), expected.take(), `${JSON.stringify(text)} at ${offset}`);
      assert.equal((JSON.parse(woven.toString()) as { o: number }).o, offset);
    }
  }
});

test('PresenceFull chunks stay under the limit and merge back to every entry', () => {
  const snap: Record<string, Record<string, { data: unknown; updated_at: number }>> = {};
  for (let t = 0; t < 5; t++) {
    snap[`p${t}`] = {};
    for (let u = 0; u < 20; u++) snap[`p${t}`]![`user${u}`] = { data: { n: u }, updated_at: 1000 + u };
  }
  const chunks = buildPresenceFull(snap, 300);
  assert.ok(chunks.length > 1 && chunks.every((c) => c.length <= 300));
  const entries = chunks.flatMap((c) => parsePresenceFull(c)!);
  assert.equal(entries.length, 100);
  assert.deepEqual(entries.find((e) => e.topic === 'p3' && e.user === 'user7'), { topic: 'p3', user: 'user7', data: { n: 7 }, updatedAt: 1007 });
  assert.equal(parsePresenceFull(Buffer.from('[1]')), null);
});
