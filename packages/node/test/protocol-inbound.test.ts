import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { deflateSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import { E2ECipher } from '../src/protocol/e2e.js';
import { decodeInbound, type Inbound, type InboundConnection } from '../src/protocol/inbound.js';

const PLAIN: InboundConnection = { msgpack: false, cipher: null };
const MSGPACK: InboundConnection = { msgpack: true, cipher: null };

function ab(bytes: Uint8Array | string): ArrayBuffer {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function text(s: string | Uint8Array, conn: InboundConnection = PLAIN): Inbound {
  return decodeInbound(ab(s), false, conn);
}

function binary(bytes: Uint8Array | string, conn: InboundConnection = PLAIN): Inbound {
  return decodeInbound(ab(bytes), true, conn);
}

function message(result: Inbound): { t: string; p: Record<string, unknown>; cid?: string; encrypted: boolean } {
  assert.equal(result.kind, 'message', `expected a message, got ${JSON.stringify(result)}`);
  if (result.kind !== 'message') throw new Error('unreachable');
  return { ...result.msg, encrypted: result.encrypted };
}

function droppedFor(result: Inbound): string {
  assert.equal(result.kind, 'dropped', `expected dropped, got ${JSON.stringify(result)}`);
  return result.kind === 'dropped' ? result.reason : '';
}

// What a msgpack client writes: plain maps, no msgpackr records.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const pack = (value: unknown): Buffer => packr.pack(value);

const prefixed = (prefix: string, body: Uint8Array): Buffer => Buffer.concat([Buffer.from(prefix), body]);

/** `{t:'deep', p:{d: [[[…null…]]]}}`: the map is level 1, `p` level 2, then `arrays` nested arrays. */
function nestedMsgpack(arrays: number): Buffer {
  const head = Buffer.from([0x82, 0xa1, 0x74, 0xa4, 0x64, 0x65, 0x65, 0x70, 0xa1, 0x70, 0x81, 0xa1, 0x64]); // {t:'deep',p:{d:
  return Buffer.concat([head, Buffer.alloc(arrays, 0x91), Buffer.from([0xc0])]);
}

describe('inbound decoding (PROTOCOL.md §3.2)', () => {
  it('parses a text JSON object and normalises type/payload', () => {
    const full = message(text('{"c":"WSE","t":"client_hello","p":{"a":1},"id":"x","ts":"y","v":1,"cid":"c-1"}'));
    assert.equal(full.t, 'client_hello');
    assert.deepEqual(full.p, { a: 1 });
    assert.equal(full.cid, 'c-1');
    assert.equal(full.encrypted, false);
    const bench = message(text('{"type":"trade_update","payload":{"px":1.5}}'));
    assert.equal(bench.t, 'trade_update');
    assert.deepEqual(bench.p, { px: 1.5 });
    const bare = message(text('{"t":"x"}'));
    assert.deepEqual(bare.p, {});
    assert.equal(bare.cid, undefined);
    assert.equal(message(text('{"p":{}}')).t, '');
  });

  it('accepts the legacy prefixes WSE{, S{, U{', () => {
    assert.equal(message(text('WSE{"t":"a"}')).t, 'a');
    assert.equal(message(text('S{"t":"b"}')).t, 'b');
    assert.equal(message(text('U{"t":"c"}')).t, 'c');
    assert.equal(droppedFor(text('U[{"t":"c"}]')), 'not_object');
    assert.equal(droppedFor(text('WSE[1]')), 'not_object');
  });

  it('treats other text as activity (PY PONG:<ms>, garbage, empty)', () => {
    for (const s of ['PONG:1700000000000', 'WSE:PING:1', 'hello', '', '[1,2]', 'Sx', 'WSE']) assert.deepEqual(text(s), { kind: 'activity' });
  });

  it('drops malformed JSON and non-objects', () => {
    assert.equal(droppedFor(text('{"t":')), 'bad_json');
    assert.equal(droppedFor(text('{nope}')), 'bad_json');
    assert.equal(droppedFor(text('S{"t":1')), 'bad_json');
  });

  it('drops invalid UTF-8 in text and in decoded text', () => {
    const bad = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    assert.equal(droppedFor(text(bad)), 'bad_utf8');
    assert.equal(droppedFor(binary(prefixed('C:', deflateSync(bad)))), 'bad_utf8');
  });

  it('inflates C: and raw zlib (every FLEVEL header), then treats the result as text', () => {
    const json = Buffer.from('{"t":"zipped","p":{"n":1}}');
    assert.equal(message(binary(prefixed('C:', deflateSync(json, { level: 1 })))).t, 'zipped');
    for (const level of [1, 2, 6, 9]) {
      const raw = deflateSync(json, { level });
      assert.equal(raw[0], 0x78);
      assert.equal(message(binary(raw)).t, 'zipped', `level ${level} header ${raw[1]!.toString(16)}`);
    }
    assert.deepEqual(binary(prefixed('C:', deflateSync('PONG:1'))), { kind: 'activity' });
  });

  it('refuses a zlib bomb past 10 MiB and corrupt streams', () => {
    const bomb = deflateSync(Buffer.alloc(11 * 1024 * 1024, 0x20), { level: 9 });
    assert.ok(bomb.length < 64 * 1024);
    assert.equal(droppedFor(binary(prefixed('C:', bomb))), 'inflate_too_large');
    assert.equal(droppedFor(binary(bomb)), 'inflate_too_large');
    assert.equal(droppedFor(binary(prefixed('C:', Buffer.from('not zlib at all')))), 'inflate_failed');
    assert.equal(droppedFor(binary(Buffer.from([0x78, 0x9c, 1, 2, 3]))), 'inflate_failed');
  });

  it('decodes M: msgpack on any connection and bare msgpack on msgpack connections', () => {
    const body = pack({ t: 'mp', p: { n: 2 ** 40, s: 'x' }, cid: 'k' });
    const viaPrefix = message(binary(prefixed('M:', body)));
    assert.equal(viaPrefix.t, 'mp');
    assert.deepEqual(viaPrefix.p, { n: 2 ** 40, s: 'x' });
    assert.equal(viaPrefix.cid, 'k');
    assert.equal(message(binary(body, MSGPACK)).t, 'mp');
    assert.equal(droppedFor(binary(pack([1, 2]), MSGPACK)), 'not_object');
  });

  it('accepts nesting of exactly 64 and rejects 65 before decoding', () => {
    assert.equal(message(binary(prefixed('M:', nestedMsgpack(62)))).t, 'deep');
    assert.equal(droppedFor(binary(prefixed('M:', nestedMsgpack(63)))), 'msgpack_depth');
  });

  it('rejects a msgpack nesting bomb without recursing into it', () => {
    const bomb = Buffer.alloc(1_000_000, 0x91); // a million nested one-element arrays
    assert.equal(droppedFor(binary(prefixed('M:', bomb))), 'msgpack_depth');
    assert.equal(droppedFor(binary(Buffer.alloc(100_000, 0xdc), MSGPACK)), 'msgpack_depth');
  });

  it('rejects ext types, the reserved byte, truncation, huge counts and trailing bytes', () => {
    const ext = Buffer.from([0x81, 0xa1, 0x74, 0xd6, 0xff, 0, 0, 0, 1]); // {t: timestamp ext}
    assert.equal(droppedFor(binary(prefixed('M:', ext))), 'msgpack_invalid');
    assert.equal(droppedFor(binary(prefixed('M:', Buffer.from([0x81, 0xa1, 0x74, 0xc1])))), 'msgpack_invalid');
    assert.equal(droppedFor(binary(prefixed('M:', Buffer.from([0x81, 0xa1, 0x74, 0xa5, 0x61])))), 'msgpack_invalid');
    assert.equal(droppedFor(binary(prefixed('M:', Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff])))), 'msgpack_invalid');
    assert.equal(droppedFor(binary(prefixed('M:', Buffer.concat([pack({ t: 'x' }), Buffer.from([0xc0])])))), 'msgpack_invalid');
    assert.equal(droppedFor(binary(Buffer.from('M:'))), 'msgpack_invalid');
  });

  it('decrypts E: frames and processes them like text', () => {
    const { cipher } = E2ECipher.fromClientPublicKey(clientKey());
    const conn: InboundConnection = { msgpack: false, cipher };
    const result = message(binary(cipher.encrypt(Buffer.from('{"t":"ping","p":{"timestamp":5}}')), conn));
    assert.equal(result.t, 'ping');
    assert.equal(result.encrypted, true);
    assert.deepEqual(binary(cipher.encrypt(Buffer.from('PONG:1')), conn), { kind: 'activity' });
    // Plaintext stays accepted on an encrypted connection (§13).
    assert.equal(message(text('{"t":"ping"}', conn)).encrypted, false);
  });

  it('drops E: frames without a key, too short, or failing the tag', () => {
    const { cipher } = E2ECipher.fromClientPublicKey(clientKey());
    const conn: InboundConnection = { msgpack: false, cipher };
    const good = cipher.encrypt(Buffer.from('{"t":"x"}'));
    assert.equal(droppedFor(binary(good)), 'no_key');
    assert.equal(droppedFor(binary(good.subarray(0, 29), conn)), 'decrypt_failed');
    const tampered = Buffer.from(good);
    tampered[20]! ^= 1;
    assert.equal(droppedFor(binary(tampered, conn)), 'decrypt_failed');
    const other = E2ECipher.fromClientPublicKey(clientKey()).cipher;
    assert.equal(droppedFor(binary(other.encrypt(Buffer.from('{"t":"x"}')), conn)), 'decrypt_failed');
  });

  it('hands other binary to the application as a copy, and parses binary JSON', () => {
    const raw = new Uint8Array([1, 2, 3, 250]);
    const buffer = ab(raw);
    const result = decodeInbound(buffer, true, PLAIN);
    assert.equal(result.kind, 'application');
    if (result.kind !== 'application') return;
    new Uint8Array(buffer).fill(0);
    assert.deepEqual([...result.bytes], [1, 2, 3, 250]);
    assert.equal(binary('not json').kind, 'application');
    assert.equal(binary('{broken').kind, 'application');
    assert.equal(message(binary('{"t":"bin"}')).t, 'bin');
    assert.equal(message(binary('WSE{"t":"bin"}')).t, 'bin');
  });

  it('never throws on random input in any mode', () => {
    const cipher = E2ECipher.fromClientPublicKey(clientKey()).cipher;
    const modes: InboundConnection[] = [PLAIN, MSGPACK, { msgpack: false, cipher }];
    const prefixes = ['', 'E:', 'C:', 'M:', '{', 'WSE{', '\x78\x9c'];
    for (let i = 0; i < 3000; i++) {
      const body = Buffer.concat([Buffer.from(prefixes[i % prefixes.length]!, 'latin1'), randomBytes(i % 97)]);
      for (const conn of modes) {
        const result = decodeInbound(ab(body), i % 2 === 0, conn);
        assert.ok(['message', 'activity', 'application', 'dropped'].includes(result.kind));
      }
    }
  });
});

function clientKey(): string {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return ecdh.getPublicKey('base64');
}
