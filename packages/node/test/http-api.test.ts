import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, makeToken, startNode, type NodeProcess } from './harness.js';

describe('server API (PROTOCOL.md §19)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('publish one item answers its stamp; a batch answers per item, errors included', async () => {
    const one = await api(node.port, '/api/publish', { topic: 'api:1', data: { a: 1 }, type: 'thing' });
    assert.equal(one.status, 200);
    assert.match(one.json.epoch, /^[0-9a-f]{8}$/);
    assert.equal(one.json.offset, 0);
    const batch = await api(node.port, '/api/publish', { items: [{ topic: 'api:1', data: 2 }, { topic: 'api:1' }, { topic: 'api:1', data: 3 }] });
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.json.results.map((r: any) => r.offset ?? r.error.code), [1, 'INVALID_PUBLISH', 2]);
  });

  test('the API key is required', async () => {
    const response = await fetch(`http://127.0.0.1:${node.port}/api/info`);
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as any).error.code, 'UNAUTHORIZED');
  });

  test('subscribe and unsubscribe a user by user_id, on all their connections', async () => {
    const token = await makeToken({ sub: 'carol' });
    const [a, b] = [await TestClient.connect(node.url, { token }), await TestClient.connect(node.url, { token })];
    const subscribed = await api(node.port, '/api/subscribe', { user_id: 'carol', topics: ['pushed'] });
    assert.deepEqual(subscribed.json, { connections: 2 });
    await api(node.port, '/api/publish', { topic: 'pushed', data: 'hello' });
    for (const client of [a!, b!]) assert.equal((await client.publications('pushed', 1))[0]!['p'], 'hello');
    assert.deepEqual((await api(node.port, '/api/unsubscribe', { user_id: 'carol', topics: ['pushed'] })).json, { connections: 2 });
    await Promise.all([a!.close(), b!.close()]);
  });

  test('queue group members share a topic round-robin', async () => {
    const members = await Promise.all([1, 2, 3].map(async (n) => TestClient.connect(node.url, { token: await makeToken({ sub: `worker${n}` }) })));
    for (const member of members) {
      const id = (await (async () => {
        member.send({ t: 'health_check', p: {} });
        return (await member.nextOfType('health_check_response')).json!['p']['connection_id'];
      })()) as string;
      assert.deepEqual((await api(node.port, '/api/subscribe', { connection_id: id, topics: ['jobs'], queue_group: 'pool' })).json, { connections: 1 });
    }
    for (let i = 0; i < 9; i++) await api(node.port, '/api/publish', { topic: 'jobs', data: i });
    const shares = await Promise.all(members.map((member) => member.publications('jobs', 3)));
    const all = shares.flat().map((m) => m['o']).sort((x, y) => x - y);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6, 7, 8], 'each message to exactly one member');
    await Promise.all(members.map((member) => member.close()));
  });

  test('disconnect closes with 4000 by default, or the code given', async () => {
    const token = await makeToken({ sub: 'dave' });
    const client = await TestClient.connect(node.url, { token });
    assert.deepEqual((await api(node.port, '/api/disconnect', { user_id: 'dave' })).json, { connections: 1 });
    assert.deepEqual(await client.closed, { code: 4000, reason: 'disconnected' });
    const other = await TestClient.connect(node.url, { token });
    await api(node.port, '/api/disconnect', { user_id: 'dave', code: 4401, reason: 'revoked' });
    assert.deepEqual(await other.closed, { code: 4401, reason: 'revoked' });
    assert.equal((await api(node.port, '/api/disconnect', { user_id: 'dave', code: 1011 })).status, 400);
  });

  test('info reports the node and its counters', async () => {
    const { status, json } = await api(node.port, '/api/info');
    assert.equal(status, 200);
    assert.equal(typeof json.node_id, 'string');
    assert.equal(typeof json.counters.messages_sent, 'number');
    assert.ok(json.recovery.topics >= 1);
  });
});
