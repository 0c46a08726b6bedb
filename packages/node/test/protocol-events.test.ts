import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  categoryOf,
  connectionEvent,
  publishAck,
  publishAckJson,
  publishNack,
  recoveryEntry,
  serverHelloEvent,
  subscribeReply,
  unsubscribeReply,
} from '../src/protocol/events.js';

const HELLO = {
  connectionId: 'conn-1',
  pingIntervalMs: 25000,
  maxMessageSize: 1048576,
  rateLimitCapacity: 100000,
  rateLimitRefill: 10000,
  maxInflightPublishes: 1024,
  cluster: false,
};

describe('per-connection events (PROTOCOL.md §4, §5, §7, §19)', () => {
  it('applies the §4 category rule', () => {
    assert.equal(categoryOf('user_snapshot'), 'S');
    assert.equal(categoryOf('snapshot_complete'), 'S');
    assert.equal(categoryOf('snapshot_data'), 'S');
    assert.equal(categoryOf('server_hello'), 'WSE');
    assert.equal(categoryOf('subscription_update'), 'WSE');
    assert.equal(categoryOf('PONG'), 'WSE');
    assert.equal(categoryOf('error'), 'WSE');
    assert.equal(categoryOf('publish_ack'), 'U');
    assert.equal(categoryOf('trade_update'), 'U');
  });

  it('connectionEvent orders c,t,id,ts,seq,p,[cid],v with a growing seq', () => {
    const a = connectionEvent('health_check_response', { status: 'healthy' });
    const b = connectionEvent('snapshot_complete', {}, { cid: 'x' });
    assert.deepEqual(Object.keys(a), ['c', 't', 'id', 'ts', 'seq', 'p', 'v']);
    assert.deepEqual(Object.keys(b), ['c', 't', 'id', 'ts', 'seq', 'p', 'cid', 'v']);
    assert.equal(a.c, 'U');
    assert.equal(b.c, 'S');
    assert.equal(connectionEvent('x', {}, { c: 'WSE' }).c, 'WSE');
    assert.ok(a.seq > 1 && b.seq === a.seq + 1);
    assert.notEqual(a.id, b.id);
    assert.equal(a.v, 1);
  });

  it('server_hello matches the §5 example key order (plus max_inflight_publishes)', () => {
    const hello = serverHelloEvent(HELLO);
    const p = hello['p'] as { server_time: string };
    const expected =
      `{"c":"WSE","p":{"connection_id":"conn-1","features":{"batching":true,"cluster":false,"compression":true,"encryption":false,"msgpack":true,"priority_queue":true,"recovery":true},"limits":{"max_inflight_publishes":1024,"max_message_size":1048576,"rate_limit_capacity":100000,"rate_limit_refill":10000},"ping_interval":25000,"protocol_version":1,"server_time":"${p.server_time}","server_version":"2.4.1"},"t":"server_hello","v":1}`;
    assert.equal(JSON.stringify(hello), expected);
  });

  it('server_hello after a key exchange carries encryption:true and the key', () => {
    const hello = serverHelloEvent({ ...HELLO, cluster: true, encryptionPublicKey: 'BAAA' });
    const p = hello['p'] as Record<string, unknown>;
    assert.equal(p['encryption_public_key'], 'BAAA');
    assert.deepEqual((p['features'] as Record<string, unknown>)['encryption'], true);
    assert.deepEqual((p['features'] as Record<string, unknown>)['cluster'], true);
  });

  it('subscribe reply has the §7 shape and keeps recovery entries per topic', () => {
    const reply = subscribeReply({
      successTopics: ['chat'],
      failedTopics: ['secret'],
      recoverRequested: true,
      recovery: [['chat', recoveryEntry({ kind: 'recovered', epoch: '0000abcd', offset: 57, messages: new Array(16).fill(Buffer.alloc(1)) })]],
    });
    assert.equal(reply.t, 'subscription_update');
    assert.equal(reply.c, 'WSE');
    assert.equal(
      JSON.stringify(reply.p),
      '{"action":"subscribe","success":true,"success_topics":["chat"],"failed_topics":["secret"],"recoverable":true,"recovered":true,"recovery":{"chat":{"epoch":"0000abcd","offset":57,"recoverable":true,"recovered":true,"count":16}}}',
    );
  });

  it('top-level recovered is false unless requested and every topic recovered', () => {
    const recovered = recoveryEntry({ kind: 'recovered', epoch: '00000001', offset: 3, messages: [] });
    const missed = recoveryEntry({ kind: 'not_recovered', epoch: '00000001', offset: 9, messages: [] });
    const plain = subscribeReply({ successTopics: ['a'], failedTopics: [], recoverRequested: false, recovery: [['a', recovered]] });
    const partial = subscribeReply({ successTopics: ['a', 'b'], failedTopics: [], recoverRequested: true, recovery: [['a', recovered], ['b', missed]] });
    const none = subscribeReply({ successTopics: [], failedTopics: ['x'], recoverRequested: true, recovery: [] });
    assert.equal((plain.p as Record<string, unknown>)['recovered'], false);
    assert.equal((partial.p as Record<string, unknown>)['recovered'], false);
    assert.equal((none.p as Record<string, unknown>)['recovered'], false);
    assert.equal((none.p as Record<string, unknown>)['success'], false);
  });

  it('recovery entries follow the §8 table', () => {
    assert.deepEqual(recoveryEntry({ kind: 'no_history', epoch: null, offset: 0, messages: [] }), {
      epoch: null,
      offset: 0,
      recoverable: false,
      recovered: false,
      count: 0,
    });
    assert.deepEqual(recoveryEntry({ kind: 'not_recovered', epoch: '0000abcd', offset: 41, messages: [] }), {
      epoch: '0000abcd',
      offset: 41,
      recoverable: true,
      recovered: false,
      count: 0,
    });
  });

  it('a topic named __proto__ survives in the recovery map', () => {
    const entry = recoveryEntry({ kind: 'not_recovered', epoch: '00000001', offset: 1, messages: [] });
    const reply = subscribeReply({ successTopics: ['__proto__'], failedTopics: [], recoverRequested: false, recovery: new Map([['__proto__', entry]]) });
    assert.match(JSON.stringify(reply), /"recovery":\{"__proto__":\{"epoch":"00000001"/);
  });

  it('unsubscribe reply never lists removed topics in success_topics', () => {
    const reply = unsubscribeReply(['prices']);
    assert.equal(
      JSON.stringify(reply.p),
      '{"action":"unsubscribe","success":true,"success_topics":[],"failed_topics":[],"unsubscribed_topics":["prices"]}',
    );
  });

  it('publish_ack and its refusal are exactly §19', () => {
    assert.equal(
      JSON.stringify(publishAck({ cid: 'c-17', topic: 'chat:42', epoch: 0xabcd, offset: 57 })),
      '{"c":"WSE","t":"publish_ack","p":{"cid":"c-17","topic":"chat:42","epoch":"0000abcd","offset":57},"v":1}',
    );
    // The text built directly for the hot path is byte for byte the object's JSON, escapes included.
    for (const ack of [{ cid: 'c-17', topic: 'chat:42', epoch: 0xabcd, offset: 57 }, { cid: 'q"\\\u2028é', topic: 'a/"b"', epoch: 0xffffffff, offset: 2 ** 53 - 1 }]) {
      assert.equal(publishAckJson(ack), JSON.stringify(publishAck(ack)));
    }
    assert.equal(
      JSON.stringify(publishNack({ cid: 'c-1', topic: 't', code: 'PUBLISH_DENIED', message: 'denied' })),
      '{"c":"WSE","t":"publish_ack","p":{"cid":"c-1","topic":"t","error":{"code":"PUBLISH_DENIED","message":"denied"}},"v":1}',
    );
    assert.equal(
      JSON.stringify(publishNack({ cid: 'c-2', topic: 't', code: 'PUBLISH_BACKPRESSURE', message: 'busy', retryAfter: 0.5 })),
      '{"c":"WSE","t":"publish_ack","p":{"cid":"c-2","topic":"t","error":{"code":"PUBLISH_BACKPRESSURE","message":"busy","recoverable":true,"retry_after":0.5}},"v":1}',
    );
  });
});
