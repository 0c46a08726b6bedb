import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TestClient } from './client.js';
import {
  api,
  CLUSTER_SECRET,
  freePortRange,
  getText,
  makeToken,
  metricValue,
  productionMesh,
  startCluster,
  startNode,
  waitUntil,
  type ClusterNode,
} from './harness.js';

const TLS_SCRIPTS = fileURLToPath(new URL('../../../../deploy/tls/', import.meta.url));

/** A CA and member certificates made with the scripts operators use (docs/DEPLOYMENT.md). */
function makeCa(dir: string): void {
  execFileSync('bash', [join(TLS_SCRIPTS, 'make-ca.sh'), dir], { stdio: 'ignore' });
}

function issueCert(caDir: string, outDir: string, name: string): void {
  // Members dial siblings and --peers on 127.0.0.1 and advertised addresses on 127.0.0.2.
  execFileSync('bash', [join(TLS_SCRIPTS, 'issue-cert.sh'), caDir, outDir, name, 'IP:127.0.0.1', 'IP:127.0.0.2'], { stdio: 'ignore' });
}

function tlsFlags(certDir: string): string[] {
  return ['--mesh-tls-ca', join(certDir, 'ca.crt'), '--mesh-tls-cert', join(certDir, 'mesh.crt'), '--mesh-tls-key', join(certDir, 'mesh.key')];
}

describe('a cluster over mutual TLS (deploy/tls scripts, --mesh-tls-*)', () => {
  let dir: string;
  let nodes: ClusterNode[];
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wse-mtls-'));
    makeCa(join(dir, 'ca'));
    for (const name of ['n0', 'n1']) issueCert(join(dir, 'ca'), join(dir, name), name);
    nodes = await startCluster(2, 2, (i) => tlsFlags(join(dir, `n${i}`)));
  });
  after(async () => {
    await Promise.all((nodes ?? []).map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  test('two nodes of two workers link over TLS and carry a publication to the other node', async () => {
    const subscriber = await TestClient.connectSubscribed(nodes[1]!.url, await makeToken(), ['over-tls']);
    const published = await api(nodes[0]!.port, '/api/publish', { topic: 'over-tls', data: { n: 1 } });
    assert.equal(published.status, 200);
    assert.deepEqual((await subscriber.publications('over-tls', 1))[0]!['p'], { n: 1 });
    await subscriber.close();
  });

  test('a node whose certificate comes from another CA is refused, counted, and never joins', async () => {
    makeCa(join(dir, 'rogue-ca'));
    issueCert(join(dir, 'rogue-ca'), join(dir, 'rogue'), 'rogue');
    const before = (await getText(nodes[0]!.metricsPort, '/metrics')).body;
    const rogue = await startNode([
      '--node-id', 'rogue', '--workers', '2', ...productionMesh(await freePortRange(2)),
      '--peers', `127.0.0.1:${nodes[0]!.meshPort}`, '--cluster-secret', CLUSTER_SECRET, ...tlsFlags(join(dir, 'rogue')),
    ]);
    try {
      const tlsFailures = async (): Promise<number> => metricValue((await getText(nodes[0]!.metricsPort, '/metrics')).body, 'wse_mesh_tls_failures_total');
      await waitUntil(async () => (await tlsFailures()) > metricValue(before, 'wse_mesh_tls_failures_total'), 10_000, 'a refused TLS handshake on n0');
      const rogueMetrics = (await getText(rogue.metricsPort, '/metrics')).body;
      assert.ok(metricValue(rogueMetrics, 'wse_mesh_handshake_failures_total') > 0, 'the rogue counts its failed dials');
      for (const node of nodes) {
        const cluster = JSON.parse((await getText(node.metricsPort, '/health')).body).cluster;
        assert.deepEqual([...new Set(cluster.members.map((m: any) => m.node_id))].sort(), ['n0', 'n1']);
      }
      const rogueCluster = JSON.parse((await getText(rogue.metricsPort, '/health')).body).cluster;
      assert.deepEqual(rogueCluster.members.map((m: any) => m.node_id), ['rogue', 'rogue'], 'only its own two workers');
    } finally {
      await rogue.stop();
    }
  });
});
