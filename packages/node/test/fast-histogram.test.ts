import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { FastHistogram } from '../src/metrics/fast-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const VALUES = [0.0005, 0.001, 0.003, 0.05, 0.05, 2, 0];

/** The lines of one metric family, with the name taken off so two families compare. */
function series(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}_`)).map((line) => line.slice(name.length));
}

function pair(): { registry: Registry; reference: Histogram; fast: FastHistogram } {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n', worker: '0' });
  const reference = new Histogram({ name: 'reference', help: 'h', buckets: BUCKETS, registers: [registry] });
  const fast = new FastHistogram('fast', 'h', BUCKETS, [registry]);
  for (const value of VALUES) {
    reference.observe(value);
    fast.observe(value);
  }
  return { registry, reference, fast };
}

describe('FastHistogram (the per-publication latency histogram)', () => {
  test("exports exactly prom-client's series: cumulative buckets with +Inf, sum, count, default labels", async () => {
    const { registry } = pair();
    const text = await registry.metrics();
    assert.deepEqual(series(text, 'fast'), series(text, 'reference'));
    assert.match(text, /# TYPE fast histogram/);
    assert.match(text, /fast_bucket\{le="0.001",node="n",worker="0"\} 3/);
    assert.match(text, /fast_bucket\{le="\+Inf",node="n",worker="0"\} 7/);
    assert.match(text, /fast_count\{node="n",worker="0"\} 7/);
  });

  test("the cluster's AggregatorRegistry sums it across workers like prom-client's histogram", async () => {
    const workers = [pair().registry, pair().registry];
    const aggregated = await AggregatorRegistry.aggregate(await Promise.all(workers.map((r) => r.getMetricsAsJSON()))).metrics();
    assert.deepEqual(series(aggregated, 'fast'), series(aggregated, 'reference'));
    assert.match(aggregated, /fast_count\{node="n",worker="0"\} 14/);
  });

  test('reset() empties it', async () => {
    const { registry, fast } = pair();
    fast.reset();
    const text = await registry.metrics();
    assert.match(text, /fast_count\{node="n",worker="0"\} 0/);
    assert.match(text, /fast_bucket\{le="\+Inf",node="n",worker="0"\} 0/);
  });
});
