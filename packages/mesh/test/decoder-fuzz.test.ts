import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { copyUtf8 } from '../src/frame/bytes.js';
import { FrameType, MAX_FRAME } from '../src/frame/constants.js';
import { FrameDecoder, FrameView } from '../src/frame/decoder.js';
import { encodeFrame, encodeMsg } from '../src/frame/encoder.js';
import * as P from '../src/frame/payloads.js';
import { GrowableSink } from '../src/frame/sink.js';
import { parsePresenceFull } from '../src/presence/presence-codec.js';
import { frame, helloFrame, RawPeer, startMember, stopAll, waitFor } from './harness.js';

/** A deterministic PRNG so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validStream(rand: () => number): Buffer {
  const sink = new GrowableSink();
  for (let i = 0; i < 20; i++) {
    const kind = Math.floor(rand() * 6);
    if (kind === 0) encodeMsg(sink, Buffer.from('t' + i), Buffer.from('{"c":' + i + '}'), 2, i, i * 3);
    else if (kind === 1) encodeFrame(sink, FrameType.PING, 0, null, null);
    else if (kind === 2) encodeFrame(sink, FrameType.PEER_LIST, 0, null, P.encodePeerList(['1.2.3.4:5']));
    else if (kind === 3) encodeFrame(sink, FrameType.PUBLISH, 0, Buffer.from('x'), P.encodePublish('c', Buffer.from('{"c":1}')));
    else if (kind === 4) encodeFrame(sink, FrameType.SEQ_POSITION, 0, Buffer.from('x'), P.encodeSeqPosition({ claimId: 1, flags: 1, epoch: 2, offset: 3, stamper: 's' }));
    else encodeFrame(sink, FrameType.RESYNC, 0, null, Buffer.from('a\nb'));
  }
  return sink.take();
}

function mutate(b: Buffer, rand: () => number): Buffer {
  const out = Buffer.from(b);
  const n = 1 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) out[Math.floor(rand() * out.length)] = Math.floor(rand() * 256);
  return out;
}

/** Every payload decoder applied to whatever the frame carries: none may throw. */
function exercise(view: FrameView): void {
  const p = view.payload();
  P.decodeHello(p, 0x20, 0x40);
  P.decodePeerList(p);
  P.decodePublish(p);
  P.decodePuback(p);
  P.decodeSeqPosition(p);
  P.decodePresenceUpdate(p);
  P.decodeU32(p);
  parsePresenceFull(p);
}

test('decoder fuzz: random and mutated streams, random splits, never throw or over-buffer', () => {
  const rand = prng(12345);
  let frames = 0;
  let failures = 0;
  for (let round = 0; round < 400; round++) {
    const base = round % 2 === 0 ? validStream(rand) : randomBytes(64 + Math.floor(rand() * 2048));
    const input = round % 4 === 0 ? base : mutate(base, rand);
    const view = new FrameView();
    const dec = new FrameDecoder({
      onRecord(buf, start, end) {
        frames++;
        assert.ok(end - start <= MAX_FRAME);
        if (view.parse(buf, start, end)) exercise(view);
        return true;
      },
    });
    let p = 0;
    while (p < input.length) {
      const step = 1 + Math.floor(rand() * 300);
      if (!dec.push(input.subarray(p, p + step))) break;
      assert.ok(dec.buffered <= MAX_FRAME + 4);
      p += step;
    }
    if (dec.failed) failures++;
  }
  assert.ok(frames > 1000, `decoded ${frames} frames`);
  assert.ok(failures > 0, 'some random streams must have been rejected');
});

test('a member survives garbage on its socket: bad links are closed and counted, good ones still work', async () => {
  const m = await startMember();
  const good = await startMember({ peers: [m.address] });
  try {
    const rand = prng(99);
    const hello = helloFrame({ version: 1, instanceId: '00000000-fuzz', caps: 0x3f, info: null, auth: null });
    for (let i = 0; i < 40; i++) {
      const peer = await RawPeer.connect(m.address);
      const payload = i % 2 === 0 ? mutate(validStream(rand), rand) : randomBytes(200);
      peer.write(Buffer.concat([i % 3 === 0 ? hello : Buffer.alloc(0), payload]));
      // A declared length over 1 MiB must close the link without buffering it.
      if (i % 5 === 0) peer.write(Buffer.from([0x7f, 0xff, 0xff, 0xff]));
      peer.socket.end();
      await peer.closedPromise();
    }
    await waitFor(() => m.stats().handshaking === 0, 3_000, 'handshakes to finish');
    const s = m.stats();
    assert.ok(s.badFrames + s.handshakeFailures > 0);
    await waitFor(() => m.stats().peers === 1, 3_000, 'the good peer linked');
    let got = '';
    good.onDeliver = (_t, stamped) => (got = stamped.toString());
    good.addInterest('still-alive');
    await waitFor(() => m.stats().links.length === 1, 3_000, 'link');
    await new Promise((r) => setTimeout(r, 50));
    await m.publish('still-alive', Buffer.from('{"c":"ok"}'));
    await waitFor(() => got.includes('"c":"ok"'), 3_000, 'delivery after fuzzing');
  } finally {
    await stopAll([m, good]);
  }
});

test('an unknown frame type is skipped and counted; the link stays up', async () => {
  const m = await startMember();
  try {
    const peer = await RawPeer.connect(m.address);
    peer.write(helloFrame({ version: 1, instanceId: '00000000-unknown', caps: 0x01, info: null, auth: null }));
    peer.write(frame(0x7e, 0, null, Buffer.from('whatever')));
    peer.write(frame(FrameType.PING, 0, null, null));
    await waitFor(() => peer.frames.some((f) => f.type === FrameType.PONG), 2_000, 'PONG after unknown frame');
    assert.equal(m.stats().drops['unknown-type'], 1);
    assert.equal(m.stats().peers, 1);
    peer.destroy();
  } finally {
    await m.stop();
  }
});

test('MSG payloads must be UTF-8: short and long, plain ASCII or not', async () => {
  const valid = ['{"c":"ascii"}', '{"c":"é ü 日本"}', '{"c":"' + 'a'.repeat(300) + '"}', '{"c":"' + 'ü'.repeat(200) + '"}'];
  for (const text of valid) {
    const b = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(text), Buffer.from([4])]);
    assert.deepEqual(copyUtf8(b, 3, b.length - 1), Buffer.from(text));
  }
  const bad = [Buffer.from([0x7b, 0xff, 0x7d]), Buffer.concat([Buffer.alloc(200, 0x61), Buffer.from([0xc3])]), Buffer.from([0xe6, 0x97])];
  for (const b of bad) assert.equal(copyUtf8(b, 0, b.length), null);

  const m = await startMember();
  try {
    for (const payload of [Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), Buffer.concat([Buffer.alloc(300, 0x20), Buffer.from([0xff])])]) {
      const peer = await RawPeer.connect(m.address);
      peer.write(helloFrame({ version: 1, instanceId: '00000000-utf8', caps: 0x01, info: null, auth: null }));
      const before = m.stats().badFrames;
      peer.write(frame(FrameType.MSG, 0, Buffer.from('t'), payload));
      await peer.closedPromise();
      assert.equal(m.stats().badFrames, before + 1, 'counted as a bad frame');
    }
  } finally {
    await m.stop();
  }
});
