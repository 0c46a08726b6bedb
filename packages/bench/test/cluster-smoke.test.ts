import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFanout } from '../src/fanout/fanout.js';
import { fanoutFailed, formatTable } from '../src/fanout/report.js';
import { remoteTarget, spawnWseCluster } from '../src/fanout/target.js';
import { chooseTopic, placement } from '../src/fanout/topic-owner.js';

const SECRET = 'smoke-test-secret-of-at-least-32-bytes';

/**
 * The CI smoke tier: two WSE nodes meshed on loopback, 100 subscribers split 50/50, the publisher
 * on node a and the topic's owner on node b (every ack crosses the mesh), 2 s. Fails on any gap,
 * duplicate, missing delivery, error or miscount; asserts no speed.
 */
describe('fanout smoke tier: 2 nodes, 100 subscribers, 2 s', () => {
  it('delivers every publication to every subscriber on both nodes exactly once, in order', async () => {
    const report = await runFanout({
      server: 'wse',
      compare: null,
      nodes: 2,
      split: [50, 50],
      spawn: true,
      targets: [],
      metrics: [],
      baselineTargets: [],
      tiers: [100],
      runs: 1,
      durationSeconds: 2,
      warmupSeconds: 0.5,
      clientProcs: 1,
      batch: 50,
      publishWindow: 16,
      messageBytes: 100,
      topicOwner: 'other',
      workers: 1,
      wseArgs: [],
      jwtSecret: SECRET,
    });
    const result = report.tiers[0]!.byServer['wse (2 nodes)']!;
    assert.deepEqual(result.errors, []);
    const run = result.runs[0]!;
    assert.equal(run.subscribers, 100);
    assert.ok(run.published > 0, 'published inside the window');
    assert.equal(run.refusedPublishes, 0);
    assert.deepEqual([run.seqGaps, run.seqDuplicates, run.offsetGaps, run.offsetDuplicates], [0, 0, 0, 0]);
    assert.equal(run.missing, 0);
    assert.equal(run.totalDeliveries, run.expectedDeliveries);
    assert.deepEqual(run.closes, {});
    assert.deepEqual(run.nodes.map((n) => [n.node, n.subscribers]), [['a', 50], ['b', 50]]);
    assert.equal(run.topicOwner, 'b');
    // Node b has no publisher: everything it sent came over the mesh, and it was half.
    const sent = run.nodes.map((n) => n.counters?.['wse_messages_sent_total'] ?? -1);
    assert.equal(sent[0], sent[1], 'both nodes delivered every publication to their 50 subscribers');
    assert.deepEqual(run.countCheck, { serverSent: run.totalDeliveries, clientDelivered: run.totalDeliveries, difference: 0 });
    assert.equal(fanoutFailed(report), false);
    assert.match(formatTable(report), /^100\s+wse \(2 nodes\)\s/m);
    assert.match(formatTable(report), /^wse \(2 nodes\) 100: topic owner per run b$/m);
  });

  it('draws topics until the owner sits where asked; both nodes name the same owner', async () => {
    const cluster = await spawnWseCluster({ nodes: 2, workers: 1, jwtSecret: SECRET, wseArgs: [], readyTimeoutMs: 30_000 });
    try {
      const [a, b] = cluster.nodes;
      // Three draws each: a choice that ignored the request would land right half the time.
      for (const [want, owner] of [['publisher', 'a'], ['other', 'b'], ['publisher', 'a'], ['other', 'b'], ['publisher', 'a'], ['other', 'b']] as const) {
        const chosen = await chooseTopic(cluster, 100, want);
        assert.equal(chosen.owner, owner, want);
        assert.deepEqual(await placement(a!, chosen.topic), { owner, onAskedNode: owner === 'a' });
        assert.deepEqual(await placement(b!, chosen.topic), { owner, onAskedNode: owner === 'b' }, 'node b sees the same owner');
      }
      // Running nodes (--targets) answer the same way given their key (--api-key).
      const endpoints = cluster.nodes.map((n) => `${n.endpoint.host}:${n.endpoint.port}`);
      const running = remoteTarget('wse (2 nodes)', endpoints, [], a!.apiKey);
      assert.equal((await chooseTopic(running, 100, 'other')).owner, 'b');
      await assert.rejects(chooseTopic(remoteTarget('wse (2 nodes)', endpoints, []), 100, 'other'), /needs WSE nodes whose HTTP API key/);
    } finally {
      await cluster.stop();
    }
  });
});
