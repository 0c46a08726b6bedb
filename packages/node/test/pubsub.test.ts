import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, getText, makeToken, metricValue, startNode, type NodeProcess } from './harness.js';

describe('subscribe and publish (PROTOCOL.md §7, §8, §19)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('a client publish reaches every subscriber stamped, with consecutive offsets and acks', async () => {
    const subscribers = await Promise.all([1, 2, 3].map(async (n) => TestClient.connect(node.url, { token: await makeToken({ sub: `sub${n}` }) })));
    for (const s of subscribers) {
      const reply = await s.subscribe(['chat']);
      assert.equal(reply['p']['success'], true);
      assert.deepEqual(reply['p']['success_topics'], ['chat']);
      assert.deepEqual(reply['p']['recovery']['chat'], { epoch: null, offset: 0, recoverable: false, recovered: false, count: 0 });
    }
    const publisher = await TestClient.connect(node.url, { token: await makeToken({ sub: 'pub' }) });
    for (let i = 0; i < 20; i++) publisher.send({ t: 'publish', p: { topic: 'chat', type: 'chat_message', data: { i } }, cid: `c${i}` });
    const acks = [];
    for (let i = 0; i < 20; i++) acks.push((await publisher.nextOfType('publish_ack')).json!['p']);
    assert.deepEqual(acks.map((a) => a.cid), Array.from({ length: 20 }, (_, i) => `c${i}`));
    assert.deepEqual(acks.map((a) => a.offset), Array.from({ length: 20 }, (_, i) => i));
    const epoch = acks[0].epoch;
    assert.match(epoch, /^[0-9a-f]{8}$/);
    for (const s of subscribers) {
      const got = await s.publications('chat', 20);
      assert.deepEqual(got.map((m) => m['o']), Array.from({ length: 20 }, (_, i) => i));
      assert.ok(got.every((m) => m['e'] === epoch && m['t'] === 'chat_message' && m['c'] === 'U' && m['v'] === 1));
      assert.deepEqual(got.map((m) => m['p']['i']), Array.from({ length: 20 }, (_, i) => i));
    }
    const first = (await (async () => {
      const s = subscribers[0]!;
      s.send({ t: 'publish', p: { topic: 'chat', data: 'x' } });
      return s.next((f) => f.json?.['tp'] === 'chat');
    })());
    assert.ok(first.raw.toString().startsWith('{"tp":"chat","e":"'), 'stamp comes first (§8)');
    assert.equal(first.binary, false, 'publications are text frames (§3.1)');
    await Promise.all([...subscribers, publisher].map((c) => c.close()));
  });

  test('a client publication keeps its data as sent: digits past 2^53 and escapes survive', async () => {
    const subscriber = await TestClient.connect(node.url, { token: await makeToken({ sub: 'exact-sub' }) });
    await subscriber.subscribe(['exact']);
    const publisher = await TestClient.connect(node.url, { token: await makeToken({ sub: 'exact-pub' }) });
    const data = '{"id":12345678901234567890,"text":"\\u00e9 \\"q\\"","list":[1.50, -0]}';
    publisher.sendRaw(`{"t":"publish","p":{"topic":"exact","type":"order","data":${data}},"cid":"x1"}`);
    assert.equal((await publisher.nextOfType('publish_ack')).json!['p']['offset'], 0);
    const publication = await subscriber.next((f) => f.json?.['tp'] === 'exact');
    assert.ok(publication.raw.toString().endsWith(`"c":"U","t":"order","p":${data},"v":1}`), publication.raw.toString());
    // A frame the fast path leaves alone (an escaped member name) takes the general path, same result.
    publisher.sendRaw('{"t":"publish","p":{"topic":"exact","data":{"id":1}},"c\\u0069d":"x2"}');
    assert.equal((await publisher.nextOfType('publish_ack')).json!['p']['offset'], 1);
    assert.deepEqual((await subscriber.next((f) => f.json?.['o'] === 1)).json!['p'], { id: 1 });
    await Promise.all([subscriber.close(), publisher.close()]);
  });

  test('a plain subscribe reports the current position; re-subscribing replies again', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    await api(node.port, '/api/publish', { topic: 'positions', data: 1 });
    const second = await api(node.port, '/api/publish', { topic: 'positions', data: 2 });
    assert.equal(second.status, 200);
    const reply = await client.subscribe(['positions']);
    assert.deepEqual(reply['p']['recovery']['positions'], { epoch: second.json.epoch, offset: 1, recoverable: true, recovered: false, count: 0 });
    const again = await client.subscribe(['positions']);
    assert.equal(again['p']['success'], true);
    await client.close();
  });

  test('a subscribe between publications in one batch: the reply holds the position, only later offsets arrive live', async () => {
    // Publications are fanned out at the end of the loop turn; the subscribe in the middle of the
    // turn must still see exactly the offsets stamped after its reported position (§7 ordering).
    const watcher = await TestClient.connect(node.url, { token: await makeToken() });
    await watcher.subscribe(['mid-turn']);
    const sentBefore = metricValue((await getText(node.metricsPort, '/metrics')).body, 'wse_messages_sent_total');
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const publish = (i: number) => ({ t: 'publish', p: { topic: 'mid-turn', data: i }, cid: `m${i}` });
    const messages = [
      ...Array.from({ length: 40 }, (_, i) => publish(i)),
      { t: 'subscription_update', p: { action: 'subscribe', topics: ['mid-turn'] } },
      ...Array.from({ length: 40 }, (_, i) => publish(40 + i)),
    ];
    client.send({ c: 'WSE', t: 'batch', p: { count: messages.length, messages } });
    const reply = (await client.nextOfType('subscription_update')).json!;
    assert.equal(reply['p']['recovery']['mid-turn']['offset'], 39);
    const live = await client.publications('mid-turn', 40);
    const expected = Array.from({ length: 40 }, (_, i) => 40 + i);
    assert.deepEqual(live.map((m) => m['o']), expected);
    assert.deepEqual(live.map((m) => m['p']), expected);
    assert.deepEqual((await watcher.publications('mid-turn', 80)).map((m) => m['o']), Array.from({ length: 80 }, (_, i) => i));
    // One subscriber for the first 40, two for the last 40: the delivery count follows the change.
    const sentAfter = metricValue((await getText(node.metricsPort, '/metrics')).body, 'wse_messages_sent_total');
    assert.equal(sentAfter - sentBefore, 40 + 2 * 40);
    await Promise.all([client.close(), watcher.close()]);
  });

  test('wse_topics denies, control characters and the per-connection cap go to failed_topics', async () => {
    const token = await makeToken({ claims: { wse_topics: { allow: ['public:*'], deny: ['public:secret'] } } });
    const client = await TestClient.connect(node.url, { token });
    const reply = await client.subscribe(['public:news', 'public:secret', 'private', 'bad\u0001topic']);
    assert.deepEqual(reply['p']['success_topics'], ['public:news']);
    assert.deepEqual(reply['p']['failed_topics'], ['public:secret', 'private', 'bad\u0001topic']);
    await client.close();
  });

  test('missing topics and unknown actions get §7 errors, no reply', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'subscription_update', p: { action: 'subscribe', topics: [] } });
    assert.equal((await client.nextOfType('error')).json!['p']['code'], 'INVALID_SUBSCRIPTION');
    client.send({ t: 'subscription_update', p: { action: 'jump', topics: ['a'] } });
    assert.equal((await client.nextOfType('error')).json!['p']['code'], 'INVALID_ACTION');
    await client.close();
  });

  test('unsubscribe lists the topic in unsubscribed_topics only, and stops delivery', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    await client.subscribe(['leaving']);
    client.send({ t: 'subscription_update', p: { action: 'unsubscribe', topics: ['leaving'] } });
    const reply = await client.next((f) => f.json?.['p']?.['action'] === 'unsubscribe');
    assert.deepEqual(reply.json!['p'], { action: 'unsubscribe', success: true, success_topics: [], failed_topics: [], unsubscribed_topics: ['leaving'] });
    await api(node.port, '/api/publish', { topic: 'leaving', data: 'gone' });
    // A marker publication on another topic proves the server got past the unsubscribed one.
    await client.subscribe(['marker']);
    await api(node.port, '/api/publish', { topic: 'marker', data: 'm' });
    await client.next((f) => f.json?.['tp'] === 'marker');
    assert.equal(client.frames.filter((f) => f.json?.['tp'] === 'leaving').length, 0);
    await client.close();
  });

  test('a glob subscription gets matching topics once, and never a topic its token denies', async () => {
    const token = await makeToken({ claims: { wse_topics: { allow: ['*'], deny: ['room:secret'] } } });
    const client = await TestClient.connect(node.url, { token });
    const reply = await client.subscribe(['room:*', 'room:?', 'room:1']);
    assert.deepEqual(reply['p']['success_topics'], ['room:*', 'room:?', 'room:1']);
    await api(node.port, '/api/publish', { topic: 'room:secret', data: 's' });
    await api(node.port, '/api/publish', { topic: 'room:1', data: 'one' });
    await api(node.port, '/api/publish', { topic: 'room:22', data: 'two' });
    await api(node.port, '/api/publish', { topic: 'other', data: 'no' });
    await client.next((f) => f.json?.['tp'] === 'room:22');
    const topics = client.frames.filter((f) => f.json?.['tp'] !== undefined).map((f) => f.json!['tp']);
    assert.deepEqual(topics, ['room:1'], 'room:1 once, room:secret never, other never');
    await client.close();
  });

  test('publishing needs wse_publish; refusals use publish_ack with cid, error without', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken({ claims: { wse_publish: { allow: ['mine:*'] } } }) });
    client.send({ t: 'publish', p: { topic: 'theirs', data: 1 }, cid: 'x1' });
    const nack = (await client.nextOfType('publish_ack')).json!['p'];
    assert.equal(nack.cid, 'x1');
    assert.equal(nack.error.code, 'PUBLISH_DENIED');
    assert.equal(nack.epoch, undefined);
    client.send({ t: 'publish', p: { topic: 'mine:1' } });
    assert.equal((await client.nextOfType('error')).json!['p']['code'], 'INVALID_PUBLISH');
    client.send({ t: 'publish', p: { topic: 'mine:*', data: 1 }, cid: 'x2' });
    assert.equal((await client.nextOfType('publish_ack')).json!['p'].error.code, 'INVALID_PUBLISH');
    const noPublish = await TestClient.connect(node.url, { token: await makeToken({ claims: { wse_publish: undefined } }) });
    noPublish.send({ t: 'publish', p: { topic: 'a', data: 1 }, cid: 'x3' });
    assert.equal((await noPublish.nextOfType('publish_ack')).json!['p'].error.code, 'PUBLISH_DENIED');
    const metrics = (await getText(node.metricsPort, '/metrics')).body;
    assert.ok(metricValue(metrics, 'wse_publish_rejected_total', { code: 'PUBLISH_DENIED' }) >= 2);
    await Promise.all([client.close(), noPublish.close()]);
  });
});
