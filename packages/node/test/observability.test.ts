import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { getText, makeToken, metricValue, startNode, type NodeProcess } from './harness.js';

describe('/metrics and /health on the metrics port (DESIGN.md, observability)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('counts connections, deliveries and publications, with a publish-to-delivery histogram', async () => {
    const subscribers = await Promise.all([1, 2, 3].map(async () => TestClient.connect(node.url, { token: await makeToken() })));
    for (const s of subscribers) await s.subscribe(['counted']);
    const publisher = await TestClient.connect(node.url, { token: await makeToken() });
    for (let i = 0; i < 10; i++) publisher.send({ t: 'publish', p: { topic: 'counted', data: i }, cid: String(i) });
    for (const s of subscribers) await s.publications('counted', 10);
    const text = (await getText(node.metricsPort, '/metrics')).body;
    assert.equal(metricValue(text, 'wse_connections'), 4);
    assert.ok(metricValue(text, 'wse_messages_sent_total') >= 30);
    assert.equal(metricValue(text, 'wse_publications_total', { source: 'client' }), 10);
    assert.equal(metricValue(text, 'wse_publish_delivery_seconds_count'), 10);
    assert.equal(metricValue(text, 'wse_turn_queue_full_total', { queue: 'publications' }), 0);
    assert.equal(metricValue(text, 'wse_turn_queue_full_total', { queue: 'replies' }), 0);
    assert.equal(metricValue(text, 'wse_topics'), 1);
    assert.equal(metricValue(text, 'wse_subscriptions'), 3);
    assert.match(text, /wse_connections\{node="[^"]+",worker="0"\} 4/);
    // Per-worker process figures, for the operator who asks which worker is busy.
    assert.ok(metricValue(text, 'process_cpu_seconds_total', { worker: '0' }) > 0);
    assert.ok(metricValue(text, 'process_resident_memory_bytes', { worker: '0' }) > 10_000_000);
    assert.ok(metricValue(text, 'nodejs_eventloop_lag_max_seconds', { worker: '0' }) >= 0);
    await Promise.all([...subscribers, publisher].map((c) => c.close()));
  });

  test('/health reports status, connections, recovery, queues and drops', async () => {
    const { status, body } = await getText(node.metricsPort, '/health');
    assert.equal(status, 200);
    const health = JSON.parse(body);
    assert.equal(health.status, 'ok');
    assert.equal(typeof health.uptime_s, 'number');
    assert.equal(typeof health.connections, 'number');
    assert.ok(health.recovery.topics >= 1);
    assert.equal(health.queues.paced, false);
    assert.deepEqual(Object.keys(health.drops).sort(), ['inbound', 'publish_rejected', 'rate_limited', 'slow_consumers']);
  });
});
