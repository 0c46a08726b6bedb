import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, freePortRange, getText, makeToken, metricValue, productionMesh, runWse, startCluster, startNode, waitForMesh, waitUntil, type NodeProcess } from './harness.js';

async function health(node: NodeProcess): Promise<Record<string, any>> {
  return JSON.parse((await getText(node.metricsPort, '/health')).body);
}

/** The supervisor's log line once a worker of that slot is ready and counted. */
function workerUp(index: number) {
  return (line: Record<string, unknown>): boolean => line['msg'] === 'worker up' && line['worker_index'] === index;
}

describe('supervisor (DESIGN.md, process model)', () => {
  test('two workers share the client port; connections spread over both; metrics aggregate both', async () => {
    const node = await startNode(['--workers', '2', ...productionMesh(await freePortRange(2))]);
    try {
      const token = await makeToken();
      const clients = await Promise.all(Array.from({ length: 24 }, () => TestClient.connect(node.url, { token })));
      assert.equal((await api(node.port, '/api/publish', { topic: 'owned-somewhere', data: 1 })).status, 200);
      const report = await health(node);
      assert.equal(report['workers_up'], 2);
      const perWorker = report['workers'].map((w: any) => w.connections);
      assert.equal(perWorker.reduce((a: number, b: number) => a + b, 0), 24);
      assert.ok(perWorker.every((n: number) => n > 0), `both workers hold connections: ${perWorker}`);
      const owned = report['workers'].map((w: any) => w.mesh.owned_topics);
      assert.equal(owned.reduce((a: number, b: number) => a + b, 0), 1, `one worker owns the topic: ${owned}`);
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_connections'), 24);
      assert.equal(metricValue(metrics, 'wse_connections', { worker: '0' }) + metricValue(metrics, 'wse_connections', { worker: '1' }), 24);
      assert.equal(metricValue(metrics, 'wse_workers_up'), 2);
      assert.equal(metricValue(metrics, 'wse_mesh_owned_topics'), 1);
      // Each worker dials the other over loopback, and is known by its advertised address: one
      // member each, and no loopback name left over as an address still to reach.
      await waitForMesh([node], 2);
      await waitUntil(async () => (await health(node))['cluster'].unreached.length === 0, 5_000, 'no unreached address');
      const cluster = (await health(node))['cluster'];
      assert.deepEqual(cluster.members.map((m: any) => [m.worker_index, m.links, m.expected_links]), [[0, 1, 1], [1, 1, 1]]);
      assert.equal(cluster.full_mesh, true);
      // What alert WseMeshPeersMissing compares: a loopback name left waiting would page someone.
      const meshMetrics = (await getText(node.metricsPort, '/metrics')).body;
      for (const worker of ['0', '1']) {
        assert.equal(metricValue(meshMetrics, 'wse_cluster_peers', { worker }), 1);
        assert.equal(metricValue(meshMetrics, 'wse_cluster_peers_expected', { worker }), 1);
      }
      const status = await runWse(['status', '--metrics-url', `http://127.0.0.1:${node.metricsPort}`]);
      assert.equal(status.code, 0);
      assert.match(status.stdout, /2\/2 workers/);
      assert.match(status.stdout, /#0 +pid \d+ +connections \d+/);
      assert.match(status.stdout, /topics owned 1/);
      assert.match(status.stdout, /mesh: 2 members on 1 node, every link up\n  node \S+ \(this node\): 2 members, links 2\/2: /);
      assert.doesNotMatch(status.stdout, /not reached/);
      await Promise.all(clients.map((c) => c.close()));
    } finally {
      await node.stop();
    }
  });

  test('a killed worker is restarted and counted; a crash-looping slot stops restarting and shows in /health', async () => {
    const node = await startNode(['--workers', '2']);
    try {
      for (let kill = 1; kill <= 5; kill++) {
        const victim = (await health(node))['workers'].find((w: any) => w.index === 1);
        assert.ok(victim, `worker 1 is up before kill ${kill}`);
        const restarted = kill < 5 ? node.waitForLog(workerUp(1), 15_000) : node.waitForLog((l) => l['msg'] === 'worker is crash-looping; not restarting it', 15_000);
        process.kill(victim.pid, 'SIGKILL');
        await restarted;
      }
      const report = await health(node);
      assert.equal(report['status'], 'degraded');
      assert.deepEqual(report['crash_looping'], [1]);
      assert.equal(report['workers_up'], 1);
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_worker_restarts_total'), 4);
      assert.equal(metricValue(metrics, 'wse_worker_crash_loop'), 1);
      // The surviving worker still serves.
      const client = await TestClient.connect(node.url, { token: await makeToken() });
      await client.close();
    } finally {
      await node.stop();
    }
  });

  test('/health asked while a worker dies: the supervisor keeps answering and restarts the worker', async () => {
    const node = await startNode(['--workers', '2']);
    let polling = true;
    const answers: Array<number | string> = [];
    // Probes back to back, several at once, so some reach the worker as it dies.
    const probes = Array.from({ length: 4 }, async () => {
      while (polling) answers.push(await getText(node.metricsPort, '/health').then((r) => r.status, (error: Error) => `${error.message} (${String((error.cause as Error | undefined)?.message)})`));
    });
    try {
      const victim = (await health(node))['workers'].find((w: any) => w.index === 1);
      const restarted = node.waitForLog(workerUp(1), 15_000);
      process.kill(victim.pid, 'SIGKILL');
      await restarted;
      polling = false;
      await Promise.all(probes);
      assert.ok(answers.length > 0);
      // An HTTP answer each time (on a loaded machine a slow worker may make one a 503), never a
      // refused or reset connection: the supervisor stayed up.
      assert.ok(answers.every((status) => typeof status === 'number'), `every probe answered: ${[...new Set(answers)]}`);
      assert.equal(node.child.exitCode, null, 'the supervisor runs');
    } finally {
      polling = false;
      await Promise.allSettled(probes);
      await node.stop();
    }
  });

  /**
   * Clients connect one after another through a SIGHUP rolling restart; each gets three tries (a
   * connection queued on a listen socket as it closes is reset, SO_REUSEPORT). Returns how many
   * connected, and the pids before and after.
   */
  async function connectThroughRollingRestart(node: NodeProcess): Promise<{ connects: number; before: number[]; after: number[] }> {
    const before = (await health(node))['workers'].map((w: any) => w.pid).sort();
    const token = await makeToken();
    const done = node.waitForLog((l) => l['msg'] === 'rolling restart done', 30_000);
    node.child.kill('SIGHUP');
    let finished = false;
    void done.then(() => (finished = true));
    let connects = 0;
    for (let i = 0; i < 400 && !finished; i++) {
      let client: TestClient | null = null;
      for (let attempt = 1; client === null; attempt++) {
        client = await TestClient.connect(node.url, { token }).catch((error: unknown) => {
          if (attempt === 3) throw error;
          return null;
        });
      }
      connects++;
      await client.close();
    }
    await done;
    const after = (await health(node))['workers'].map((w: any) => w.pid).sort();
    return { connects, before, after };
  }

  test('SIGHUP restarts workers one at a time while the node keeps accepting clients', async () => {
    const node = await startNode(['--workers', '2']);
    try {
      const { connects, before, after } = await connectThroughRollingRestart(node);
      assert.ok(connects > 0);
      assert.equal(after.length, 2);
      assert.ok(after.every((pid: number) => !before.includes(pid)), 'every worker was replaced');
    } finally {
      await node.stop();
    }
  });

  test('SIGHUP reloads the --config file: a JWT secret rotates; a bad file or a fixed setting is refused and nothing restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wse-reload-'));
    const file = join(dir, 'wse.json');
    const [secretA, secretB] = ['reload-secret-a-0123456789abcdef-0123', 'reload-secret-b-0123456789abcdef-0123'];
    writeFileSync(file, JSON.stringify({ jwtSecret: secretA }));
    const node = await startNode(['--config', file, '--workers', '1']);
    const accepted = async (secret: string): Promise<boolean> => {
      const client = await TestClient.connect(node.url, { token: await makeToken({ secret }), ready: false });
      const first = await client.next();
      await client.close();
      return first.json?.['t'] !== 'error';
    };
    const hangUp = async (msg: string): Promise<Record<string, any>> => {
      const line = node.waitForLog((l) => l['msg'] === msg, 30_000);
      node.child.kill('SIGHUP');
      return line;
    };
    try {
      const pids = (await health(node))['workers'].map((w: any) => w.pid);
      for (const [content, setting] of [['{"jwtSecret": ', '--config'], [JSON.stringify({ jwtSecret: secretB, nodeId: 'renamed' }), '--node-id']] as const) {
        writeFileSync(file, content);
        const refused = await hangUp('configuration not reloaded; the workers keep running as they are');
        assert.match(refused['err']['message'], new RegExp(`^invalid setting ${setting}=`));
      }
      assert.deepEqual((await health(node))['workers'].map((w: any) => w.pid), pids, 'no worker restarted');
      assert.equal(await accepted(secretA), true);
      assert.equal(await accepted(secretB), false);

      // Rotation: B signs from now on, tokens signed with A stay valid until the next reload.
      writeFileSync(file, JSON.stringify({ jwtSecret: secretB, jwtPreviousSecret: secretA }));
      await hangUp('rolling restart done');
      assert.equal(await accepted(secretB), true);
      assert.equal(await accepted(secretA), true);
      writeFileSync(file, JSON.stringify({ jwtSecret: secretB }));
      await hangUp('rolling restart done');
      assert.equal(await accepted(secretA), false);
      assert.equal(await accepted(secretB), true);
    } finally {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SIGHUP on a node of one worker: the replacement serves before the old worker drains', async () => {
    const node = await startNode(['--workers', '1']);
    try {
      const { connects, before, after } = await connectThroughRollingRestart(node);
      assert.ok(connects > 0);
      assert.equal(after.length, 1);
      assert.notEqual(after[0], before[0]);
    } finally {
      await node.stop();
    }
  });

  test('SIGHUP on a clustered node of one worker: the mesh port passes to the replacement, which rejoins', async () => {
    const cluster = await startCluster(2, 1);
    try {
      const { connects, before, after } = await connectThroughRollingRestart(cluster[0]!);
      assert.ok(connects > 0);
      assert.notEqual(after[0], before[0]);
      await waitForMesh(cluster, 2);
      await waitUntil(async () => (await health(cluster[1]!))['cluster'].unreached.length === 0, 10_000, 'the old member forgotten');
      assert.equal((await health(cluster[0]!))['cluster'].full_mesh, true);
      // The replacement bound the mesh port at its first start (no failed start, no restart).
      assert.deepEqual(cluster[0]!.logs.filter((line) => /worker failed to start|worker exited/.test(line)), []);
    } finally {
      await Promise.all(cluster.map((node) => node.stop()));
    }
  });
});
