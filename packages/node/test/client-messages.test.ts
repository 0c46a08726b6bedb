import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, makeToken, startNode, type NodeProcess } from './harness.js';

const SIGNING_KEY = 'signing-key-0123456789-abcdefghijklmnop';

describe('other client messages (PROTOCOL.md §10, §14)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode(['--signing-key', SIGNING_KEY]);
  });
  after(async () => {
    await node.stop();
  });

  test('sync_request ends with snapshot_complete for the requested topics', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ c: 'S', t: 'sync_request', p: { topics: ['a', 'b'], include_snapshots: true, include_history: false } });
    const done = (await client.nextOfType('snapshot_complete')).json!;
    assert.equal(done['c'], 'S');
    assert.deepEqual(done['p']['topics'], ['a', 'b']);
    assert.equal(done['p']['count'], 0);
    await client.close();
  });

  test('health_check and metrics_request are answered; no diagnostics key', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'health_check', p: {} });
    const health = (await client.nextOfType('health_check_response')).json!;
    assert.equal(health['p']['status'], 'healthy');
    assert.equal(typeof health['p']['uptime_secs'], 'number');
    assert.equal(health['p']['diagnostics'], undefined);
    client.send({ t: 'metrics_request', p: {} });
    const metrics = (await client.nextOfType('metrics_response')).json!;
    assert.equal(metrics['p']['messages_received'], 2);
    await client.close();
  });

  test('config_update applies the compression threshold to this connection', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'config_update', p: { compression_enabled: true, compression_threshold: 10 } });
    const reply = await client.nextOfType('config_update_response');
    assert.equal(reply.json!['p']['config']['compression_threshold'], 10);
    client.send({ t: 'health_check', p: {} });
    const compressed = await client.nextOfType('health_check_response');
    assert.equal(compressed.raw.subarray(0, 2).toString(), 'C:');
    await client.close();
  });

  test('a batch is processed as if each message came alone', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({
      c: 'WSE',
      t: 'batch',
      p: {
        count: 2,
        messages: [
          { t: 'subscription_update', p: { action: 'subscribe', topics: ['batched'] } },
          { t: 'publish', p: { topic: 'batched', data: 'inside' }, cid: 'b1' },
        ],
      },
    });
    await client.nextOfType('subscription_update');
    const ack = (await client.nextOfType('publish_ack')).json!;
    assert.equal(ack['p']['cid'], 'b1');
    const [publication] = await client.publications('batched', 1);
    assert.equal(publication!['p'], 'inside');
    await client.close();
  });

  test('application messages get no reply and do not disturb the connection', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'trade_update', p: { px: 1 } });
    client.sendRaw('PONG:123', false);
    client.send({ t: 'ping', p: { timestamp: 5 } });
    const pong = await client.nextOfType('PONG');
    assert.equal(pong.json!['p']['client_timestamp'], 5);
    assert.equal(client.frames.length, 0);
    await client.close();
  });

  test('with a signing key, publications and events carry sig = h:ts:nonce:mac (§14)', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    await client.subscribe(['signed']);
    await api(node.port, '/api/publish', { topic: 'signed', data: { b: 2, a: 1 } });
    const [publication] = await client.publications('signed', 1);
    const [h, ts, nonce, mac] = String(publication!['sig']).split(':');
    assert.equal(h, createHash('sha256').update('{"a":1,"b":2}').digest('hex'));
    assert.match(nonce!, /^[0-9a-f]{32}$/);
    assert.equal(mac, createHmac('sha256', SIGNING_KEY).update(`${h}:${ts}:${nonce}`).digest('hex'));
    // A client's publish, spaced as clients may write it: the signature covers the value.
    client.sendRaw('{"t":"publish","p":{"topic":"signed","data":{ "b": 2, "a": 1 }}}');
    const [spaced] = await client.publications('signed', 1);
    assert.equal(spaced!['o'], 1);
    assert.equal(String(spaced!['sig']).split(':')[0], h);
    client.send({ t: 'health_check', p: {} });
    assert.match((await client.nextOfType('health_check_response')).json!['sig'], /^[0-9a-f]{64}:\d+:[0-9a-f]{32}:[0-9a-f]{64}$/);
    await client.close();
  });
});
