import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestClient } from './client.js';
import { freePort, getText, makeToken, metricValue, startCluster } from './harness.js';

const PROMETHEUS_DIR = fileURLToPath(new URL('../../../../deploy/prometheus/', import.meta.url));

async function prometheusQuery(port: number, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(2000) });
  const body = (await response.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}

describe('operations (issue: cluster, tests 5 and 6)', () => {
  test('a real Prometheus with deploy/prometheus/prometheus.yml scrapes both nodes', async () => {
    const nodes = await startCluster(2, 1);
    const dir = mkdtempSync(join(tmpdir(), 'wse-prometheus-'));
    let prometheus: ReturnType<typeof spawn> | null = null;
    try {
      cpSync(PROMETHEUS_DIR, dir, { recursive: true });
      // The shipped file as it is, scraping faster so the test needs not wait 10 s per scrape.
      const config = readFileSync(join(dir, 'prometheus.yml'), 'utf8').replace(/scrape_(interval|timeout): \d+s/g, 'scrape_$1: 1s');
      writeFileSync(join(dir, 'prometheus.yml'), config);
      mkdirSync(join(dir, 'targets'), { recursive: true });
      writeFileSync(join(dir, 'targets', 'wse.json'), JSON.stringify([{ targets: nodes.map((n) => `127.0.0.1:${n.metricsPort}`) }]));
      const port = await freePort();
      prometheus = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], {
        stdio: 'ignore',
      });
      const clients = await Promise.all(nodes.map(async (node) => TestClient.connect(node.url, { token: await makeToken() })));
      let found: string[] = [];
      for (let attempt = 0; attempt < 150 && found.length < 4; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const results = await Promise.all(['wse_connections', 'wse_messages_sent_total'].map((q) => prometheusQuery(port, q).catch(() => [])));
        found = results.flatMap((result, i) => result.map((sample) => `${i === 0 ? 'connections' : 'sent'}:${sample.metric['node']}`));
        found = [...new Set(found)];
      }
      assert.deepEqual(found.sort(), ['connections:n0', 'connections:n1', 'sent:n0', 'sent:n1']);
      // A node may have been scraped before its client connected: wait for a scrape after it.
      let connections: string[] = [];
      for (let attempt = 0; attempt < 50 && connections.join() !== '1,1'; attempt++) {
        connections = (await prometheusQuery(port, 'sum by (node) (wse_connections)')).map((s) => s.value[1]);
        if (connections.join() !== '1,1') await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.deepEqual(connections, ['1', '1']);
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      if (prometheus !== null && prometheus.exitCode === null && prometheus.signalCode === null) {
        const exited = once(prometheus, 'exit');
        prometheus.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });

  test('a publisher faster than the subscribers is paced across the mesh: bounded memory, no gap, no slow-consumer close', async () => {
    const nodes = await startCluster(2, 1, ['--fanout-backlog-bytes', '4MiB']);
    try {
      const topic = 'firehose';
      const count = 1500;
      const pad = 'p'.repeat(10_000);
      const readers = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
        return TestClient.connectSubscribed(nodes[1 - (i % 2)]!.url, await makeToken(), [topic]);
      }));
      // The readers stop reading until the subscribers' node paces its intake, then catch up.
      readers.forEach((r) => r.pauseReading());
      const receiving = readers.map((r) => r.publications(topic, count, 120_000));
      const publisher = await TestClient.connectSubscribed(nodes[0]!.url, await makeToken({ sub: 'fast' }), ['firehose:acks']);
      let sent = 0;
      let acked = 0;
      let peakRss = 0;
      const pids = await Promise.all(nodes.map(async (n) => JSON.parse((await getText(n.metricsPort, '/health')).body).workers[0].pid as number));
      const rssTimer = setInterval(() => {
        for (const pid of pids) {
          const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (match) peakRss = Math.max(peakRss, Number(match[1]) * 1024);
        }
      }, 50);
      const allAcked = new Promise<void>((resolve, reject) => {
        const pump = (): void => {
          while (sent < count && sent - acked < 1024) {
            publisher.send({ t: 'publish', p: { topic, data: { n: sent, pad } }, cid: String(sent) });
            sent++;
          }
        };
        publisher.ws.on('message', (data: Buffer) => {
          const text = data.toString('utf8');
          if (!text.includes('"publish_ack"')) return;
          const ack = JSON.parse(text);
          if (ack.p.error) return reject(new Error(JSON.stringify(ack.p.error)));
          if (++acked === count) resolve();
          else pump();
        });
        pump();
      });
      let paced = false;
      for (let attempt = 0; attempt < 100 && !paced; attempt++) {
        paced = JSON.parse((await getText(nodes[1]!.metricsPort, '/health')).body).queues.paced === true;
        if (!paced) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(paced, 'the subscribers’ node paces its intake while its clients do not read');
      assert.ok(acked < count, `the publisher is held back (${acked} of ${count} acked)`);
      readers.forEach((r) => r.resumeReading());
      await allAcked;
      for (const received of await Promise.all(receiving)) {
        assert.deepEqual(received.map((m) => m['o']), Array.from({ length: count }, (_, i) => i));
      }
      clearInterval(rssTimer);
      const metrics = await Promise.all(nodes.map(async (n) => (await getText(n.metricsPort, '/metrics')).body));
      assert.equal(metrics.reduce((sum, text) => sum + metricValue(text, 'wse_slow_consumer_drops_total'), 0), 0);
      // 1,500 × 10 KB × 4 readers = 60 MB went out; the workers never held anything like it.
      assert.ok(peakRss < 400 * 1024 * 1024, `peak RSS ${Math.round(peakRss / 1024 / 1024)} MB`);
      await Promise.all([...readers, publisher].map((c) => c.close()));
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
});
