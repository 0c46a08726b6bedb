import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { epochHex, parseEpochHex, publicationBody, stampPublication } from '../src/protocol/publication.js';

describe('publications (PROTOCOL.md §8, §19; MESH.md E.a)', () => {
  it('builds the §19 body', () => {
    assert.equal(publicationBody('chat_message', '{"text":"hi"}'), '{"c":"U","t":"chat_message","p":{"text":"hi"},"v":1}');
    assert.equal(publicationBody('a"b', '[1,2]'), '{"c":"U","t":"a\\"b","p":[1,2],"v":1}');
  });

  it('weaves the stamp right after the opening brace (§8 example)', () => {
    const body = '{"c":"U","t":"chat_message","p":{"text":"hi"},"v":1}';
    const stamped = stampPublication('chat', 0xabcd, 42, body);
    assert.equal(stamped.toString(), '{"tp":"chat","e":"0000abcd","o":42,"c":"U","t":"chat_message","p":{"text":"hi"},"v":1}');
    assert.deepEqual(stampPublication('chat', 0xabcd, 42, Buffer.from(body)), stamped);
  });

  it('MESH.md E.a: stamp of the {"c":"U"} body at 0000abcd/42', () => {
    assert.equal(stampPublication('t', 0xabcd, 42, '{"c":"U"}').toString(), '{"tp":"t","e":"0000abcd","o":42,"c":"U"}');
  });

  it('escapes the topic and keeps large offsets as integers', () => {
    const stamped = stampPublication('a"\\b', 0xffffffff, 2 ** 40, '{"c":"U"}');
    const parsed = JSON.parse(stamped.toString()) as Record<string, unknown>;
    assert.deepEqual(parsed, { tp: 'a"\\b', e: 'ffffffff', o: 2 ** 40, c: 'U' });
    assert.match(stamped.toString(), /"o":1099511627776,/);
  });

  it('counts bytes, not characters, when topic and body are not ASCII', () => {
    const body = publicationBody('chat', '{"text":"héllo 👋"}');
    const stamped = stampPublication('čat:ü', 7, 3, body);
    assert.equal(stamped.toString(), '{"tp":"čat:ü","e":"00000007","o":3,"c":"U","t":"chat","p":{"text":"héllo 👋"},"v":1}');
    assert.deepEqual(stampPublication('čat:ü', 7, 3, Buffer.from(body)), stamped);
  });

  it('stays valid JSON for an empty object body', () => {
    assert.equal(stampPublication('t', 1, 0, '{}').toString(), '{"tp":"t","e":"00000001","o":0}');
    assert.equal(stampPublication('t', 1, 0, Buffer.from('{ }')).toString(), '{"tp":"t","e":"00000001","o":0 }');
    assert.doesNotThrow(() => JSON.parse(stampPublication('t', 1, 0, '{ \n}').toString()));
  });

  it('epochs are 8 lowercase hex digits both ways', () => {
    assert.equal(epochHex(0), '00000000');
    assert.equal(epochHex(0xabcd), '0000abcd');
    assert.equal(epochHex(0xdeadbeef), 'deadbeef');
    assert.equal(parseEpochHex('0000abcd'), 0xabcd);
    assert.equal(parseEpochHex('DEADBEEF'), 0xdeadbeef);
    for (const bad of ['abcd', '0000abcdx', 'zzzzzzzz', '', 1234, null, undefined, {}]) assert.equal(parseEpochHex(bad), null);
  });
});
