import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import { E2ECipher } from '../src/protocol/e2e.js';
import { encodeEvent, encryptText, type OutboundConnection } from '../src/protocol/outbound.js';

const JSON_CONN: OutboundConnection = { msgpack: false, compressionThreshold: 1024, cipher: null };
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

function cipherPair(): E2ECipher {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return E2ECipher.fromClientPublicKey(ecdh.getPublicKey('base64')).cipher;
}

function eventOfJsonLength(length: number): Record<string, unknown> {
  const base = JSON.stringify({ t: 'x', p: '' }).length;
  return { t: 'x', p: 'a'.repeat(length - base) };
}

describe('outbound per-connection events (PROTOCOL.md §3.1)', () => {
  it('sends JSON bytes up to the threshold and C:+zlib level 1 strictly above it', () => {
    const at = encodeEvent(eventOfJsonLength(1024), JSON_CONN);
    assert.equal(Buffer.from(at).toString(), JSON.stringify(eventOfJsonLength(1024)));
    const above = Buffer.from(encodeEvent(eventOfJsonLength(1025), JSON_CONN));
    assert.deepEqual([...above.subarray(0, 4)], [0x43, 0x3a, 0x78, 0x01]);
    assert.equal(inflateSync(above.subarray(2)).toString(), JSON.stringify(eventOfJsonLength(1025)));
  });

  it('never compresses with an infinite threshold', () => {
    const out = Buffer.from(encodeEvent(eventOfJsonLength(100_000), { ...JSON_CONN, compressionThreshold: Number.POSITIVE_INFINITY }));
    assert.equal(out[0], 0x7b);
  });

  it('M: is one msgpack map with str keys, integer integers and float64 other numbers', () => {
    const event = { c: 'WSE', t: 'publish_ack', p: { cid: 'c', epoch: '0000abcd', offset: 57, big: 2 ** 40, neg: -5, f: 1.5, ok: true, none: null }, v: 1 };
    const out = Buffer.from(encodeEvent({ ...event, skip: undefined }, { ...JSON_CONN, msgpack: true }));
    assert.deepEqual([...out.subarray(0, 2)], [0x4d, 0x3a]);
    assert.equal(out[2], 0x84, 'fixmap of the four fields c,t,p,v');
    assert.deepEqual([...out.subarray(3, 5)], [0xa1, 0x63], 'key "c" as fixstr');
    const body = out.subarray(2);
    assert.deepEqual(unpackr.unpack(body), event);
    const hex = body.toString('hex');
    assert.ok(hex.includes('a66f6666736574' + '39'), 'offset 57 as positive fixint');
    assert.ok(hex.includes('a3626967' + 'd3' + '0000010000000000'), '2^40 as int64, not float');
    assert.ok(hex.includes('a166' + 'cb' + '3ff8000000000000'), '1.5 as float64');
    assert.ok(hex.includes('a36e6567' + 'fb'), '-5 as negative fixint');
  });

  it('M: applies toJSON like JSON does and never produces records', () => {
    const when = new Date(0);
    const out = Buffer.from(encodeEvent({ t: 'x', p: { when } }, { ...JSON_CONN, msgpack: true }));
    assert.equal(out[2], 0x82, 'a plain fixmap, not a record');
    assert.deepEqual(unpackr.unpack(out.subarray(2)), { t: 'x', p: { when: '1970-01-01T00:00:00.000Z' } });
  });

  it('E: encrypts JSON (never msgpack, never compressed) even when above the threshold', () => {
    const cipher = cipherPair();
    const event = eventOfJsonLength(5000);
    const out = Buffer.from(encodeEvent(event, { msgpack: true, compressionThreshold: 10, cipher }));
    assert.deepEqual([...out.subarray(0, 2)], [0x45, 0x3a]);
    assert.equal(cipher.decrypt(out)!.toString(), JSON.stringify(event));
  });

  it('encryptText wraps a publication unchanged', () => {
    const cipher = cipherPair();
    const stamped = '{"tp":"t","e":"00000001","o":0,"c":"U"}';
    assert.equal(cipher.decrypt(encryptText(stamped, cipher))!.toString(), stamped);
    assert.equal(cipher.decrypt(encryptText(Buffer.from(stamped), cipher))!.toString(), stamped);
  });
});
