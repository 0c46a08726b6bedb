import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson, signPayload } from '../src/protocol/signing.js';

describe('message signing (PROTOCOL.md §14)', () => {
  it('canonical JSON sorts keys at every level and is compact', () => {
    assert.equal(canonicalJson({ b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1, u: undefined }), '{"a":1,"b":{"c":2,"d":[3,{"e":4,"f":5}]}}');
    assert.equal(canonicalJson(undefined), 'null');
    assert.equal(canonicalJson('s'), '"s"');
  });

  it('signs as h:ts:nonce:mac with HMAC-SHA256 over h:ts:nonce', () => {
    const payload = { text: 'hi', n: 1 };
    const nowMs = 1_772_359_200_123;
    const sig = signPayload(payload, 'server-signing-key', nowMs);
    const match = /^([0-9a-f]{64}):(\d+):([0-9a-f]{32}):([0-9a-f]{64})$/.exec(sig);
    assert.ok(match, sig);
    const [, h, ts, nonce, mac] = match;
    assert.equal(h, createHash('sha256').update('{"n":1,"text":"hi"}').digest('hex'));
    assert.equal(ts, '1772359200');
    assert.equal(mac, createHmac('sha256', 'server-signing-key').update(`${h}:${ts}:${nonce}`).digest('hex'));
  });

  it('uses a fresh nonce per signature', () => {
    const a = signPayload({}, 'k', 0).split(':')[2];
    const b = signPayload({}, 'k', 0).split(':')[2];
    assert.notEqual(a, b);
  });
});
