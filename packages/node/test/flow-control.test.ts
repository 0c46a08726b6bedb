import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, getText, makeToken, metricValue, startNode, type NodeProcess } from './harness.js';

const PAD = 'x'.repeat(100_000);

/** Publishes `count` ~100 KB messages through the HTTP API, 40 per request. */
async function publishLarge(node: NodeProcess, topic: string, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let sent = 0; sent < count; sent += 40) {
    const items = Array.from({ length: Math.min(40, count - sent) }, (_, i) => ({ topic, data: { n: sent + i, pad: PAD } }));
    statuses.push((await api(node.port, '/api/publish', { items })).status);
  }
  return statuses;
}

describe('rate limit (PROTOCOL.md §12)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode(['--rate-limit-capacity', '10', '--rate-limit-refill', '1']);
  });
  after(async () => {
    await node.stop();
  });

  test('a flood gets one warning, then RATE_LIMITED; the connection stays and pings still answer', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    for (let i = 0; i < 30; i++) client.send({ t: 'trade_update', p: { i } });
    client.send({ t: 'ping', p: { timestamp: 1 } });
    const warning = (await client.nextOfType('rate_limit_warning')).json!;
    assert.equal(warning['p']['limit'], 10);
    const limited = (await client.nextOfType('error')).json!;
    assert.equal(limited['p']['code'], 'RATE_LIMITED');
    assert.equal(limited['p']['retry_after'], 1.0);
    await client.nextOfType('PONG');
    assert.equal(client.frames.filter((f) => f.json?.['t'] === 'error').length, 0, 'at most one error per second');
    const metrics = (await getText(node.metricsPort, '/metrics')).body;
    assert.ok(metricValue(metrics, 'wse_rate_limited_total') >= 15);
    await client.close();
  });
});

describe('slow consumers and pacing (PROTOCOL.md §6, DESIGN.md flow control)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode(['--max-outbound-queue-bytes', '2MiB', '--fanout-backlog-bytes', '256MiB']);
  });
  after(async () => {
    await node.stop();
  });

  test('a client that stops reading is closed 4008 and counted; a reading client misses nothing', async () => {
    const slow = await TestClient.connect(node.url, { token: await makeToken({ sub: 'slow' }) });
    const good = await TestClient.connect(node.url, { token: await makeToken({ sub: 'good' }) });
    await slow.subscribe(['firehose']);
    await good.subscribe(['firehose']);
    slow.pauseReading();
    const count = 240;
    const receiving = good.publications('firehose', count, 60_000);
    await publishLarge(node, 'firehose', count);
    const received = await receiving;
    assert.deepEqual(received.map((m) => m['o']), Array.from({ length: count }, (_, i) => i), 'no gap for the reading client');
    slow.resumeReading();
    const { code, reason } = await slow.closed;
    assert.equal(code, 4008);
    assert.equal(reason, 'slow consumer');
    const offsets = slow.frames.filter((f) => f.json?.['tp'] === 'firehose').map((f) => f.json!['o']);
    assert.deepEqual(offsets, Array.from({ length: offsets.length }, (_, i) => i), 'what it got before the close has no gap');
    const metrics = (await getText(node.metricsPort, '/metrics')).body;
    assert.equal(metricValue(metrics, 'wse_slow_consumer_drops_total'), 1);
    await good.close();
  });
});

describe('publisher pacing (DESIGN.md flow control, PROTOCOL.md §19)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode(['--max-outbound-queue-bytes', '64MiB', '--fanout-backlog-bytes', '4MiB']);
  });
  after(async () => {
    await node.stop();
  });

  test('while subscribers as a whole fall behind, the HTTP API answers 429; after they catch up, 200 — and nothing is lost', async () => {
    const clients = await Promise.all([1, 2, 3].map(async (n) => TestClient.connect(node.url, { token: await makeToken({ sub: `r${n}` }) })));
    for (const client of clients) await client.subscribe(['paced']);
    for (const client of clients) client.pauseReading();
    let accepted = 0;
    let throttled: { status: number; retryAfter: string | null } | null = null;
    for (let attempt = 0; attempt < 100 && throttled === null; attempt++) {
      const items = Array.from({ length: 20 }, (_, i) => ({ topic: 'paced', data: { n: accepted + i, pad: PAD } }));
      const response = await api(node.port, '/api/publish', { items });
      if (response.status === 429) throttled = { status: response.status, retryAfter: response.headers.get('retry-after') };
      else accepted += response.json.results.length;
      if (throttled === null) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.deepEqual(throttled, { status: 429, retryAfter: '1' }, 'the API paced the publisher');
    const health = JSON.parse((await getText(node.metricsPort, '/health')).body);
    assert.equal(health.queues.paced, true);
    const receiving = clients.map((client) => client.publications('paced', accepted, 60_000));
    for (const client of clients) client.resumeReading();
    for (const received of await Promise.all(receiving)) {
      assert.deepEqual(received.map((m) => m['o']), Array.from({ length: accepted }, (_, i) => i));
    }
    // Once drained, publishing is accepted again (the monitor samples every 100 ms).
    let status = 429;
    for (let attempt = 0; attempt < 50 && status === 429; attempt++) {
      status = (await api(node.port, '/api/publish', { topic: 'paced', data: 'after' })).status;
      if (status === 429) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 200);
    await Promise.all(clients.map((client) => client.close()));
  });
});
