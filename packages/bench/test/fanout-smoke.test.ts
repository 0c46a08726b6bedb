import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFanout } from '../src/fanout/fanout.js';
import { formatMarkdown, formatTable } from '../src/fanout/report.js';

describe('fanout against the baseline server', () => {
  it('delivers every publication to every subscriber exactly once, in order', async () => {
    const report = await runFanout({
      server: 'baseline',
      compare: null,
      nodes: 1,
      split: [],
      spawn: true,
      targets: [],
      metrics: [],
      baselineTargets: [],
      tiers: [20],
      runs: 1,
      durationSeconds: 1,
      warmupSeconds: 0.3,
      clientProcs: 2,
      batch: 10,
      publishWindow: 64,
      messageBytes: 100,
      workers: 1,
      wseArgs: [],
      jwtSecret: 'smoke-test-secret-of-at-least-32-bytes',
    });
    const result = report.tiers[0]!.byServer.baseline!;
    assert.deepEqual(result.errors, []);
    const run = result.runs[0]!;
    assert.equal(run.subscribers, 20);
    assert.equal(run.clientProcesses, 2);
    assert.ok(run.published > 0, 'published inside the window');
    assert.equal(run.refusedPublishes, 0);
    assert.ok(run.expectedDeliveries >= run.published * 20);
    assert.equal(run.totalDeliveries, run.expectedDeliveries, 'deliveries = published × subscribers');
    assert.equal(run.missing, 0);
    assert.deepEqual([run.seqGaps, run.seqDuplicates, run.offsetGaps, run.offsetDuplicates], [0, 0, 0, 0]);
    assert.deepEqual(run.closes, {});
    assert.ok(run.deliveries > 0 && run.deliveries <= run.totalDeliveries);
    assert.ok(run.latency.count > 0 && run.latency.p50 > 0 && run.latency.p50 <= run.latency.max);
    assert.ok(run.serverCpuPercent !== null && run.serverRssMb !== null);
    assert.match(formatTable(report), /^20\s+baseline\s/m);
    assert.match(formatMarkdown(report), /^\| 20 \| baseline \|/m);
  });
});
