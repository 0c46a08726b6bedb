import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, getText, makeToken, metricValue, startNode, type NodeProcess } from './harness.js';

async function publishMany(node: NodeProcess, topic: string, count: number): Promise<{ epoch: string; offset: number }[]> {
  const items = Array.from({ length: count }, (_, i) => ({ topic, data: { n: i } }));
  const { status, json } = await api(node.port, '/api/publish', { items });
  assert.equal(status, 200);
  return json.results;
}

describe('recovery by (epoch, offset) (PROTOCOL.md §8)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode(['--recovery-buffer-size', '16', '--recovery-max-messages', '8']);
  });
  after(async () => {
    await node.stop();
  });

  test('a client that held offset k gets exactly k+1 … head-1, then the reply, then live messages', async () => {
    const results = await publishMany(node, 'r1', 10);
    const epoch = results[0]!.epoch;
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'subscription_update', p: { action: 'subscribe', topics: ['r1'], recover: true, recovery: { r1: { epoch, offset: 4 } } } });
    // Order on the wire (§7): every replayed message, then the reply.
    const sequence = [];
    for (let i = 0; i < 6; i++) sequence.push((await client.next()).json!);
    assert.deepEqual(sequence.map((m) => (m['t'] === 'subscription_update' ? 'reply' : m['o'])), [5, 6, 7, 8, 9, 'reply']);
    const reply = sequence[5]!;
    assert.equal(reply['p']['recovered'], true);
    assert.deepEqual(reply['p']['recovery']['r1'], { epoch, offset: 9, recoverable: true, recovered: true, count: 5 });
    await api(node.port, '/api/publish', { topic: 'r1', data: 'live' });
    const live = await client.publications('r1', 1);
    assert.equal(live[0]!['o'], 10);
    await client.close();
  });

  test('a client that is up to date recovers with nothing to replay', async () => {
    const results = await publishMany(node, 'r2', 3);
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const reply = await client.subscribe(['r2'], { recover: true, recovery: { r2: { epoch: results[0]!.epoch, offset: 2 } } });
    assert.deepEqual(reply['p']['recovery']['r2'], { epoch: results[0]!.epoch, offset: 2, recoverable: true, recovered: true, count: 0 });
    await client.close();
  });

  test('an unknown epoch, an evicted offset or a backlog over the replay cap is NotRecovered, never partial', async () => {
    const results = await publishMany(node, 'r3', 30);
    const epoch = results[0]!.epoch;
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const cases: Array<[unknown, unknown]> = [
      ['0badbeef' === epoch ? '0badbee0' : '0badbeef', 29],
      ['not-hex', 3],
      [epoch, 2], // evicted: the ring holds 16 slots
      [epoch, 20], // 9 missed > max 8
    ];
    for (const [e, o] of cases) {
      const reply = await client.subscribe(['r3'], { recover: true, recovery: { r3: { epoch: e, offset: o } } });
      assert.equal(reply['p']['recovered'], false, `case ${String(e)}/${String(o)}`);
      assert.deepEqual(reply['p']['recovery']['r3'], { epoch, offset: 29, recoverable: true, recovered: false, count: 0 });
    }
    assert.equal(client.frames.filter((f) => f.json?.['tp'] === 'r3').length, 0, 'nothing replayed');
    await client.close();
  });

  test('a topic without history answers NoHistory', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const reply = await client.subscribe(['never'], { recover: true, recovery: { never: { epoch: '00000001', offset: 3 } } });
    assert.deepEqual(reply['p']['recovery']['never'], { epoch: null, offset: 0, recoverable: false, recovered: false, count: 0 });
    assert.equal(reply['p']['recovered'], false);
    await client.close();
  });

  test('recovery outcomes and ring bytes show in the metrics', async () => {
    const text = (await getText(node.metricsPort, '/metrics')).body;
    assert.ok(metricValue(text, 'wse_recovery_requests_total', { outcome: 'recovered' }) >= 2);
    assert.ok(metricValue(text, 'wse_recovery_requests_total', { outcome: 'not_recovered' }) >= 4);
    assert.ok(metricValue(text, 'wse_recovery_bytes') > 0);
    assert.ok(metricValue(text, 'wse_recovery_topics') >= 3);
  });
});
