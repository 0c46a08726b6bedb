import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { TestClient } from './client.js';
import { api, getText, makeToken, metricValue, ownerOf, repeatedTopLevelKeys, runWse, startCluster, waitUntil, type ClusterNode } from './harness.js';

/** Counts one topic's publications without keeping them: order hash, offsets, payload ids. */
class CountingSubscriber {
  count = 0;
  lastOffset = -1;
  epoch: string | null = null;
  errors: string[] = [];
  private readonly hash = createHash('sha256');
  private readonly seen = new Set<string>();
  private waiter: { target: number; resolve: () => void } | null = null;

  constructor(readonly ws: WebSocket, private readonly topic: string) {
    ws.on('message', (data: Buffer) => this.onFrame(data.toString('utf8')));
  }

  static async connect(url: string, token: string, topic: string): Promise<CountingSubscriber> {
    const client = await TestClient.connectSubscribed(url, token, [topic]);
    client.ws.removeAllListeners('message');
    return new CountingSubscriber(client.ws, topic);
  }

  until(target: number, timeoutMs: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${this.count} of ${target}`)), timeoutMs);
      this.waiter = { target, resolve: () => (clearTimeout(timer), resolve()) };
    });
  }

  get orderDigest(): string {
    return this.hash.copy().digest('hex');
  }

  get distinct(): number {
    return this.seen.size;
  }

  private onFrame(text: string): void {
    if (!text.startsWith('{"tp":')) return;
    const message = JSON.parse(text);
    if (message.tp !== this.topic) return;
    this.epoch ??= message.e;
    if (message.e !== this.epoch) this.errors.push(`epoch changed to ${message.e}`);
    if (message.o !== this.lastOffset + 1) this.errors.push(`offset ${message.o} after ${this.lastOffset}`);
    this.lastOffset = message.o;
    const id = `${message.p.from}:${message.p.n}`;
    this.seen.add(id);
    this.hash.update(`${message.o}=${id};`);
    this.count++;
    if (this.waiter !== null && this.count >= this.waiter.target) this.waiter.resolve();
  }
}

/** A client publisher that keeps `window` publications in flight, paced by its acks (§19). */
async function publishFromClient(url: string, from: string, topic: string, count: number, window = 64): Promise<void> {
  const client = await TestClient.connect(url, { token: await makeToken({ sub: from }) });
  let sent = 0;
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      while (sent < count && sent - acked < window) {
        client.send({ t: 'publish', p: { topic, data: { from, n: sent } }, cid: `${from}-${sent}` });
        sent++;
      }
    };
    client.ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      if (!text.includes('"publish_ack"')) return;
      const ack = JSON.parse(text);
      if (ack.p.error) return reject(new Error(`publish refused: ${JSON.stringify(ack.p.error)}`));
      acked++;
      if (acked === count) resolve();
      else pump();
    });
    pump();
  });
  await client.close();
}

/** The HTTP API in batches of 100. */
async function publishFromApi(port: number, from: string, topic: string, count: number): Promise<void> {
  for (let n = 0; n < count; n += 100) {
    const items = Array.from({ length: Math.min(100, count - n) }, (_, i) => ({ topic, data: { from, n: n + i } }));
    let response = await api(port, '/api/publish', { items });
    for (let attempt = 0; response.status === 429 && attempt < 200; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      response = await api(port, '/api/publish', { items });
    }
    assert.equal(response.status, 200, JSON.stringify(response.json));
  }
}

describe('a cluster of two nodes × two workers (issue: cluster, test 1)', () => {
  let nodes: ClusterNode[];
  before(async () => {
    nodes = await startCluster(2, 2);
  });
  after(async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  });

  test('200 subscribers on all four workers get all 10,000 messages from four entry points, once, gap-free, in one order', async () => {
    const topic = 'cluster:everything';
    const token = await makeToken({ sub: 'reader' });
    const subscribers: CountingSubscriber[] = [];
    for (let i = 0; i < 200; i++) subscribers.push(await CountingSubscriber.connect(nodes[i % 2]!.url, token, topic));
    const perWorker = await Promise.all(nodes.map(async (node) => JSON.parse((await getText(node.metricsPort, '/health')).body).workers.map((w: any) => w.connections)));
    assert.ok(perWorker.flat().every((n: number) => n > 0), `subscribers on all four workers: ${JSON.stringify(perWorker)}`);

    await Promise.all([
      publishFromClient(nodes[0]!.url, 'client-a', topic, 2500),
      publishFromApi(nodes[1]!.port, 'api-b', topic, 2500),
      publishFromClient(nodes[1]!.url, 'client-b', topic, 2500),
      publishFromApi(nodes[0]!.port, 'api-a', topic, 2500),
    ]);
    await Promise.all(subscribers.map((s) => s.until(10_000, 60_000)));
    const digest = subscribers[0]!.orderDigest;
    for (const s of subscribers) {
      assert.deepEqual(s.errors, []);
      assert.equal(s.count, 10_000);
      assert.equal(s.distinct, 10_000, 'every message once');
      assert.equal(s.lastOffset, 9_999);
      assert.equal(s.orderDigest, digest, 'the same order at every subscriber');
    }
    // Each publication was sequenced once, by its topic's one owner; every forward arrived.
    const metrics = await Promise.all(nodes.map(async (node) => (await getText(node.metricsPort, '/metrics')).body));
    const total = (name: string, labels: Record<string, string> = {}): number => metrics.reduce((sum, text) => sum + metricValue(text, name, labels), 0);
    assert.equal(total('wse_mesh_sequenced_total'), 10_000);
    assert.equal(metrics.filter((text) => metricValue(text, 'wse_mesh_sequenced_total') > 0).length, 1, 'one node holds the owner');
    assert.equal(total('wse_mesh_publishes_forwarded_total', { direction: 'sent' }), total('wse_mesh_publishes_forwarded_total', { direction: 'received' }));
    assert.ok(total('wse_mesh_publishes_forwarded_total', { direction: 'sent' }) >= 5_000, 'the other node forwarded its publications');
    await Promise.all(subscribers.map((s) => new Promise((resolve) => (s.ws.once('close', resolve), s.ws.close()))));
  });

  test('each node sees the mesh once: four members on two nodes, every link up, no address left to reach', async () => {
    // Node n1 names n0 by a loopback address; n0's workers advertise another: both are one member.
    const cluster = async (node: ClusterNode): Promise<any> => JSON.parse((await getText(node.metricsPort, '/health')).body).cluster;
    await waitUntil(async () => (await Promise.all(nodes.map(cluster))).every((c) => c.unreached.length === 0), 10_000, 'no unreached address');
    for (const node of nodes) {
      const view = await cluster(node);
      assert.equal(view.full_mesh, true);
      assert.deepEqual(view.members.map((m: any) => m.node_id).sort(), ['n0', 'n0', 'n1', 'n1']);
      assert.equal(new Set(view.members.map((m: any) => m.instance_id)).size, 4);
      assert.ok(view.members.every((m: any) => m.links === m.expected_links && m.links === (m.node_id === node.nodeId ? 1 : 2)));
    }
    const status = await runWse(['status', '--metrics-url', `http://127.0.0.1:${nodes[1]!.metricsPort}`]);
    assert.match(status.stdout, /mesh: 4 members on 2 nodes, every link up\n  node n1 \(this node\): 2 members, links 2\/2: .*\n  node n0: 2 members, links 4\/4: /);
  });

  test('a client recovering on a worker without the topic\'s history gets it from another member\'s ring (docs/MESH-EXTENSIONS.md E.f)', async () => {
    // The topic lives on n1 (owner and subscriber there); n0's workers never held it.
    let topic = '';
    for (let i = 0; topic === ''; i++) if ((await ownerOf(nodes[0]!, `cluster:fetch-${i}`, nodes)).node === nodes[1]) topic = `cluster:fetch-${i}`;
    const keeper = await TestClient.connectSubscribed(nodes[1]!.url, await makeToken({ sub: 'keeper' }), [topic]);
    const stamps = [];
    for (let n = 0; n < 20; n++) stamps.push((await api(nodes[1]!.port, '/api/publish', { topic, data: { n } })).json);
    await keeper.publications(topic, 20);
    const epoch = stamps[0].epoch;
    const fetchesBefore = metricValue((await getText(nodes[0]!.metricsPort, '/metrics')).body, 'wse_mesh_range_fetches_total', { outcome: 'filled' });

    const late = await TestClient.connect(nodes[0]!.url, { token: await makeToken({ sub: 'late' }) });
    late.send({ t: 'subscription_update', p: { action: 'subscribe', topics: [topic], recover: true, recovery: { [topic]: { epoch, offset: 11 } } } });
    const sequence = [];
    for (let i = 0; i < 9; i++) sequence.push((await late.next()).json!);
    // §7 order: the replay, then the reply; live messages after it.
    assert.deepEqual(sequence.map((m) => (m['t'] === 'subscription_update' ? 'reply' : m['o'])), [12, 13, 14, 15, 16, 17, 18, 19, 'reply']);
    assert.deepEqual(sequence[8]!['p']['recovery'][topic], { epoch, offset: 19, recoverable: true, recovered: true, count: 8 });
    await api(nodes[1]!.port, '/api/publish', { topic, data: { n: 20 } });
    assert.equal((await late.publications(topic, 1))[0]!['o'], 20);

    // A client that missed nothing is told so, also by a worker that holds nothing of the topic.
    const current = await TestClient.connect(nodes[0]!.url, { token: await makeToken({ sub: 'current' }) });
    const reply = await current.subscribe([topic], { recover: true, recovery: { [topic]: { epoch, offset: 20 } } });
    assert.deepEqual(reply['p']['recovery'][topic], { epoch, offset: 20, recoverable: true, recovered: true, count: 0 });
    const fetchesAfter = metricValue((await getText(nodes[0]!.metricsPort, '/metrics')).body, 'wse_mesh_range_fetches_total', { outcome: 'filled' });
    assert.ok(fetchesAfter - fetchesBefore >= 1, `n0 fetched from another member (${fetchesBefore} → ${fetchesAfter})`);
    await Promise.all([keeper.close(), late.close(), current.close()]);
  });

  test("a client's data crosses the mesh as written: digits past 2^53 and white space survive", async () => {
    const topics = Array.from({ length: 8 }, (_, i) => `cluster:exact-${i}`);
    const subscriber = await TestClient.connect(nodes[1]!.url, { token: await makeToken({ sub: 'exact-reader' }) });
    await subscriber.subscribe(topics);
    const publisher = await TestClient.connect(nodes[0]!.url, { token: await makeToken({ sub: 'exact-writer' }) });
    const data = '{"id":12345678901234567890, "list":[1.50,-0]}';
    for (const topic of topics) {
      publisher.sendRaw(`{"t":"publish","p":{"topic":"${topic}","data":${data}},"cid":"${topic}"}`);
      assert.equal((await publisher.nextOfType('publish_ack')).json!['p']['offset'], 0);
    }
    for (const topic of topics) {
      const publication = await subscriber.next((f) => f.json?.['tp'] === topic);
      assert.ok(publication.raw.toString().endsWith(`"p":${data},"v":1}`), publication.raw.toString());
    }
    await Promise.all([subscriber.close(), publisher.close()]);
  });

  test('presence is one view: a user connected through both nodes joins once, stays while any connection does, leaves once', async () => {
    const topic = 'cluster:lobby';
    const watcher = await TestClient.connectSubscribed(nodes[1]!.url, await makeToken({ sub: 'watcher' }), [topic]);
    const token = await makeToken({ sub: 'erin' });
    const erin: TestClient[] = [];
    for (let i = 0; i < 4; i++) {
      const connection = await TestClient.connect(nodes[i % 2]!.url, { token });
      await connection.subscribe([topic], { presence: { status: 'online' } });
      erin.push(connection);
    }
    assert.equal((await watcher.nextOfType('presence_join')).json!['p']['user_id'], 'erin');
    await presentEverywhere(topic, ['erin']);

    // Closed at once, so leaves from several origins may cross on the wire.
    await Promise.all(erin.slice(0, 3).map((connection) => connection.close()));
    // A leave would spread in milliseconds; the remaining connection must keep erin present.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await presentEverywhere(topic, ['erin']);
    await erin[3]!.close();
    assert.equal((await watcher.nextOfType('presence_leave')).json!['p']['user_id'], 'erin');
    await presentEverywhere(topic, []);
    const seen = (t: string) => watcher.frames.filter((f) => f.json?.['t'] === t && f.json['p']['user_id'] === 'erin').length;
    assert.equal(seen('presence_join'), 0, 'one join in all');
    assert.equal(seen('presence_leave'), 0, 'one leave in all');
    await watcher.close();
  });

  /** Polls both nodes' /api/presence (any worker answers) until each lists exactly `users`. */
  async function presentEverywhere(topic: string, users: string[]): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const answers = await Promise.all(
        [...nodes, ...nodes].map(async (node) => Object.keys((await api(node.port, `/api/presence?topic=${encodeURIComponent(topic)}`)).json.members).sort()),
      );
      if (answers.every((members) => JSON.stringify(members) === JSON.stringify(users))) return;
      if (Date.now() > deadline) assert.fail(`presence answers ${JSON.stringify(answers)}, want ${JSON.stringify(users)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
});

describe('a node that stops (issue: cluster, test 4)', () => {
  test('SIGTERM: its clients get 4300, the other node keeps serving, the mesh forgets it before any heartbeat timeout', async () => {
    const nodes = await startCluster(2, 1);
    try {
      const token = await makeToken();
      const leaving = await TestClient.connectSubscribed(nodes[0]!.url, token, ['leaving']);
      const staying = await TestClient.connect(nodes[1]!.url, { token });
      await staying.subscribe(['after']);
      const meshMetrics = (await getText(nodes[1]!.metricsPort, '/metrics')).body;
      assert.equal(metricValue(meshMetrics, 'wse_cluster_peers'), 1);
      assert.ok(metricValue(meshMetrics, 'wse_mesh_frames_total', { direction: 'in', peer_node: 'n0' }) > 0);
      const stoppedAt = Date.now();
      const code = await nodes[0]!.stop('SIGTERM');
      assert.equal(code, 0);
      assert.equal((await leaving.closed).code, 4300);
      // SHUTDOWN closes the link at once; the heartbeat would take 15-20 s.
      const health = JSON.parse((await getText(nodes[1]!.metricsPort, '/health')).body);
      assert.equal(health.workers[0].mesh.members.filter((m: any) => m.connected).length, 0);
      const after = (await getText(nodes[1]!.metricsPort, '/metrics')).body;
      assert.equal(metricValue(after, 'wse_mesh_links_closed_total'), 1);
      assert.equal(metricValue(after, 'wse_mesh_dead_peers_total'), 0, 'closed by SHUTDOWN, not by a missed heartbeat');
      // Both nodes' logs, start to drain: each field once per line (a repeated one hides the first).
      const logLines = nodes.flatMap((node) => node.logs.filter((line) => line.startsWith('{')));
      assert.ok(logLines.some((line) => line.includes('"mesh link closed"')));
      assert.deepEqual(logLines.filter((line) => repeatedTopLevelKeys(line).length > 0), []);
      assert.ok(Date.now() - stoppedAt < 15_000);
      const published = await api(nodes[1]!.port, '/api/publish', { topic: 'after', data: 'still serving' });
      assert.equal(published.status, 200);
      assert.equal((await staying.publications('after', 1))[0]!['p'], 'still serving');
      await staying.close();
    } finally {
      await Promise.all(nodes.map((node) => node.stop()));
    }
  });
});
