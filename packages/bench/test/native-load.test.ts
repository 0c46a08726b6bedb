import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { BenchError } from '../src/errors.js';
import { runFanout } from '../src/fanout/fanout.js';
import { fanoutFailed, formatTable } from '../src/fanout/report.js';
import type { LoadReply } from '../src/load/ipc.js';
import { LoadClient, NATIVE_LOAD_BIN, type LoadClientKind, type LoadReport } from '../src/load/load-client.js';
import { nowMicros } from '../src/sys/clock.js';
import { acceptFor } from '../src/ws/handshake.js';
import { serverFrame } from '../src/ws/server-frame.js';

/**
 * The native load client (native/*.c) against real servers on loopback: a spawned WSE node
 * (its count must equal wse_messages_sent_total), and a scripted server that injects gaps,
 * duplicates, fragments, pings and refusals, where its report must equal the Node client's.
 */
const HAVE_CC = (() => {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = HAVE_CC ? false : 'no C compiler (cc): the native client (native/*.c) is not built here';

const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

interface ClientFrame {
  opcode: number;
  payload: Buffer;
}

/** Masked client frames (RFC 6455 §5.3) out of `buf`; returns them and the bytes left over. */
function readClientFrames(buf: Buffer): { frames: ClientFrame[]; rest: Buffer } {
  const frames: ClientFrame[] = [];
  let pos = 0;
  for (;;) {
    if (buf.length - pos < 2) break;
    const len7 = buf[pos + 1]! & 0x7f;
    const head = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
    if (buf.length - pos < head + 4) break;
    const length = len7 < 126 ? len7 : len7 === 126 ? buf.readUInt16BE(pos + 2) : Number(buf.readBigUInt64BE(pos + 2));
    assert.ok((buf[pos + 1]! & 0x80) !== 0, 'client frames are masked');
    if (buf.length - pos < head + 4 + length) break;
    const mask = buf.subarray(pos + head, pos + head + 4);
    const payload = Buffer.from(buf.subarray(pos + head + 4, pos + head + 4 + length));
    for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i & 3]!;
    frames.push({ opcode: buf[pos]! & 0x0f, payload });
    pos += head + 4 + length;
  }
  return { frames, rest: buf.subarray(pos) };
}

function text(value: unknown): Buffer {
  return serverFrame(OP_TEXT, Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));
}

function publication(topic: string, offset: number, seq: number, ts: number): string {
  return `{"tp":${JSON.stringify(topic)},"e":"00000001","o":${offset},"c":"U","t":"bench","p":{"s":${seq},"ts":${ts},"pad":"xxxxxxxx"},"v":1}`;
}

/** One fragmented text message: first frame without FIN, then continuations. */
function fragments(message: string, pieces: number): Buffer[] {
  const bytes = Buffer.from(message);
  const size = Math.ceil(bytes.length / pieces);
  const frames: Buffer[] = [];
  for (let i = 0; i < pieces; i++) {
    const frame = serverFrame(i === 0 ? OP_TEXT : 0x0, bytes.subarray(i * size, (i + 1) * size));
    if (i < pieces - 1) frame[0] = frame[0]! & 0x7f;
    frames.push(frame);
  }
  return frames;
}

type Behaviour = 'script' | 'refuse' | 'silent';

/**
 * What each connection sees: 101, server_ready (cut mid-header), the subscribe reply; then on
 * `stream()` the scripted publications of its topic. Records what the clients sent.
 */
class ScriptedServer {
  readonly received: Array<{ cookie: string; texts: string[]; pongs: number; closes: number[] }> = [];
  private readonly subscribed = new Map<Socket, string>();
  private server: Server | null = null;
  port = 0;

  constructor(private readonly behaviour: Behaviour) {}

  async start(): Promise<void> {
    this.server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  async stop(): Promise<void> {
    for (const socket of this.subscribed.keys()) socket.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  reset(): void {
    this.received.length = 0;
    this.subscribed.clear();
  }

  /**
   * Topic "a": s 0..9 with 4 missing and 7 twice; o 100.. with 104 missing and 107 twice; one
   * message in 3 fragments, one cut into single bytes, a WebSocket ping, an application ping and
   * a binary frame. Topic "b": s 0..5 in order, then Close 4008 (a slow-consumer close).
   */
  stream(): void {
    const ts = Date.now() * 1000;
    for (const [socket, topic] of this.subscribed) {
      if (topic === 'b') {
        for (let s = 0; s <= 5; s++) socket.write(text(publication('b', 50 + s, s, ts)));
        socket.write(serverFrame(OP_CLOSE, Buffer.from([0x0f, 0xa8])));
        continue;
      }
      const seqs = [0, 1, 2, 3, 5, 6, 7, 7, 8, 9];
      const offsets = [100, 101, 102, 103, 105, 106, 107, 107, 108, 109];
      for (let i = 0; i < seqs.length; i++) {
        const message = publication('a', offsets[i]!, seqs[i]!, ts);
        if (i === 2) for (const f of fragments(message, 3)) socket.write(f);
        else if (i === 5) for (const byte of text(message)) socket.write(Buffer.from([byte]));
        else socket.write(text(message));
        if (i === 3) {
          socket.write(serverFrame(OP_PING, Buffer.from('hi')));
          socket.write(text('{"c":"WSE","t":"ping","p":{"server_time":"2026-03-01T10:00:25.000Z"}}'));
          socket.write(serverFrame(OP_BINARY, Buffer.from('{"c":"WSE","t":"publish_ack","p":{}}')));
        }
      }
    }
  }

  private serve(socket: Socket): void {
    let head = '';
    let upgraded = false;
    let pending = Buffer.alloc(0);
    const record = { cookie: '', texts: [] as string[], pongs: 0, closes: [] as number[] };
    this.received.push(record);
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      if (!upgraded) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        upgraded = true;
        const key = /^sec-websocket-key:\s*(\S+)/im.exec(head)?.[1] ?? '';
        record.cookie = /^cookie:\s*(.*?)\r?$/im.exec(head.slice(0, end))?.[1] ?? '';
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`);
        if (this.behaviour === 'refuse') {
          socket.write(text({ c: 'WSE', t: 'error', p: { code: 'AUTH_FAILED', message: 'Authentication failed' }, v: 1 }));
          socket.write(serverFrame(OP_CLOSE, Buffer.concat([Buffer.from([0x11, 0x31]), Buffer.from('Authentication failed')])));
          return;
        }
        if (this.behaviour === 'silent') return;
        const ready = text({ c: 'WSE', t: 'server_ready', p: { details: { features: { recovery: true } } }, v: 1 });
        socket.write(ready.subarray(0, 1));
        setTimeout(() => socket.write(ready.subarray(1)), 5);
        chunk = Buffer.from(head.slice(end + 4), 'latin1');
      }
      const { frames, rest } = readClientFrames(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const frame of frames) this.onClientFrame(socket, record, frame);
    });
  }

  private onClientFrame(socket: Socket, record: ScriptedServer['received'][number], frame: ClientFrame): void {
    if (frame.opcode === OP_PONG) record.pongs++;
    if (frame.opcode === OP_CLOSE) {
      record.closes.push(frame.payload.readUInt16BE(0));
      socket.end(serverFrame(OP_CLOSE, frame.payload));
    }
    if (frame.opcode !== OP_TEXT) return;
    const body = frame.payload.toString('utf8');
    record.texts.push(body);
    const message = JSON.parse(body) as { t: string; p: { topics?: string[] } };
    if (message.t !== 'subscription_update') return;
    const topic = message.p.topics![0]!;
    this.subscribed.set(socket, topic);
    const reply = { c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', success: true, success_topics: [topic], failed_topics: [] }, v: 1 };
    socket.write(serverFrame(OP_BINARY, Buffer.from(JSON.stringify(reply))));
  }
}

/** The counters a user sees; cpu figures, timestamps and histogram details differ by nature. */
function comparable(report: LoadReport): Record<string, unknown> {
  const { latency, cpuMicros: _c, cpuWallMicros: _w, cpuTotalMicros: _t, reportedAtMicros: _r, ...counters } = report;
  return { ...counters, latencyCount: latency.count };
}

async function scriptedRun(server: ScriptedServer, kind: LoadClientKind): Promise<LoadReport> {
  server.reset();
  const client = LoadClient.start(1, { client: kind, threads: 2 });
  try {
    const request = { host: '127.0.0.1', port: server.port, path: '/wse', headers: { Cookie: 'access_token=abc' } };
    const connected = await client.connect({ request, topics: ['a', 'b'], batch: 3, batchTimeoutMs: 5000 }, 5);
    assert.equal(connected.live, 5, connected.firstError);
    await client.setWindow(0, Number.MAX_SAFE_INTEGER);
    server.stream();
    // Topic b's subscribers close (4008) after s=5, so minLastSeq waits only for topic a's s=9.
    const report = await client.settle(9, 1000, 5000);
    await client.closeAll(2000);
    return report;
  } finally {
    client.stop();
  }
}

describe('native load client', { skip }, () => {
  it('is built by the package build', () => {
    assert.doesNotThrow(() => execFileSync('test', ['-x', NATIVE_LOAD_BIN]), `${NATIVE_LOAD_BIN} missing: run npm run build`);
  });

  it("a settle before the window's end edge (the coordinator's clock ahead of this one) ends the window", async () => {
    const client = LoadClient.start(1, { client: 'native', threads: 1 });
    try {
      const startUs = nowMicros() + 1_000;
      await client.setWindow(startUs, startUs + 60_000_000);
      await delay(50); // the start edge has run
      const report = await client.settle(-1, 1000, 1000); // no subscribers: settled at once
      assert.ok(report.cpuWallMicros > 40_000 && report.cpuWallMicros < 10_000_000, `window wall ${report.cpuWallMicros} µs`);
    } finally {
      client.stop();
    }
  });

  it('counts exactly what a WSE node says it sent, with no gap, over 2 processes × 2 threads', async () => {
    const report = await runFanout({
      server: 'wse', compare: null, nodes: 1, split: [], spawn: true, targets: [], metrics: [], baselineTargets: [],
      tiers: [60], runs: 1, durationSeconds: 1.5, warmupSeconds: 0.3, clientProcs: 2, client: 'native', clientThreads: 2,
      batch: 20, publishWindow: 16, messageBytes: 100, workers: 1, wseArgs: [],
      jwtSecret: 'native-test-secret-of-at-least-32-bytes',
    });
    const result = report.tiers[0]!.byServer['wse (1 node)']!;
    assert.deepEqual(result.errors, []);
    const run = result.runs[0]!;
    assert.equal(run.subscribers, 60);
    assert.equal(run.clientProcesses, 2);
    assert.ok(run.published > 0, 'published inside the window');
    assert.deepEqual([run.seqGaps, run.seqDuplicates, run.offsetGaps, run.offsetDuplicates], [0, 0, 0, 0]);
    assert.equal(run.missing, 0);
    assert.ok(run.totalDeliveries > 0);
    assert.deepEqual(run.countCheck, { serverSent: run.totalDeliveries, clientDelivered: run.totalDeliveries, difference: 0 });
    assert.ok(run.latency.count > 0 && run.latency.p50 > 0);
    assert.ok(run.clientCpuPercent > 0);
    assert.equal(fanoutFailed(report), false);
    assert.match(formatTable(report), /2 native load process\(es\) × 2 thread\(s\)/);
  });

  describe('against a scripted server', () => {
    const server = new ScriptedServer('script');
    before(() => server.start());
    after(() => server.stop());

    it('finds the injected gaps and duplicates, and reports what the Node client reports', async () => {
      const native = await scriptedRun(server, 'native');
      const sent = server.received.map((r) => ({ ...r }));
      const node = await scriptedRun(server, 'node');
      // 3 subscribers on a (5 subscribers round-robin over a, b): one gap and one duplicate each.
      assert.equal(native.seqGaps, 3);
      assert.equal(native.seqDuplicates, 3);
      assert.equal(native.offsetGaps, 3);
      assert.equal(native.offsetDuplicates, 3);
      assert.equal(native.deliveries, 3 * 10 + 2 * 6);
      assert.equal(native.otherFrames, 3 * 2, 'the application ping and the binary frame');
      assert.deepEqual(native.closes, { '4008': 2 });
      assert.equal(native.live, 3);
      assert.equal(native.minLastSeq, 9);
      assert.deepEqual(native.perTopic, { a: { subscribers: 3, deliveries: 30 }, b: { subscribers: 2, deliveries: 12 } });
      assert.equal(native.latency.count, 42);
      assert.equal(native.latency.counts.length, 1664);
      assert.deepEqual(comparable(native), comparable(node));
      // What the native client sent: the cookie, hello + subscribe, pong, PONG, close 1000.
      for (const record of sent) {
        assert.equal(record.cookie, 'access_token=abc');
        assert.equal(record.texts[0], '{"t":"client_hello","p":{"client_version":"wse-bench/0.1.0","protocol_version":1}}');
        assert.match(record.texts[1]!, /^\{"t":"subscription_update","p":\{"action":"subscribe","topics":\["[ab]"\]\}\}$/);
      }
      const onA = sent.filter((r) => r.texts[1]!.includes('["a"]'));
      assert.equal(onA.length, 3);
      for (const record of onA) {
        assert.equal(record.pongs, 1);
        assert.deepEqual(record.texts.slice(2), ['{"c":"WSE","t":"PONG","p":{},"v":1}']);
        assert.deepEqual(record.closes, [1000]);
      }
      assert.deepEqual(sent.filter((r) => r.texts[1]!.includes('["b"]')).map((r) => r.closes), [[4008], [4008]]);
    });
  });

  describe('refused and stuck connections', () => {
    const refusing = new ScriptedServer('refuse');
    const silent = new ScriptedServer('silent');
    before(async () => {
      await refusing.start();
      await silent.start();
    });
    after(async () => {
      await refusing.stop();
      await silent.stop();
    });

    it('reports the server error of a refused connection like the Node client', async () => {
      const reports: Partial<Record<LoadClientKind, LoadReport>> = {};
      for (const kind of ['native', 'node'] as const) {
        const client = LoadClient.start(1, { client: kind, threads: 2 });
        try {
          const request = { host: '127.0.0.1', port: refusing.port, path: '/wse', headers: { Cookie: 'access_token=abc' } };
          reports[kind] = await client.connect({ request, topics: ['t'], batch: 2, batchTimeoutMs: 5000 }, 3);
          await client.closeAll(1000);
        } finally {
          client.stop();
        }
      }
      assert.equal(reports.native!.connectFailures, 3);
      assert.equal(reports.native!.live, 0);
      assert.equal(reports.native!.firstError, 'AUTH_FAILED: Authentication failed');
      assert.deepEqual(comparable(reports.native!), comparable(reports.node!));
    });

    it('fails a connect whose batch never subscribes, with the Node message', async () => {
      const client = LoadClient.start(1, { client: 'native', threads: 1 });
      try {
        const request = { host: '127.0.0.1', port: silent.port, path: '/wse' };
        await assert.rejects(client.connect({ request, topics: ['t'], batch: 2, batchTimeoutMs: 300 }, 2), {
          code: 'WSE_BENCH_ERR_CHILD',
          message: 'subscribers not ready after 300 ms',
        });
        await client.closeAll(500);
        const cleared = await client.report();
        assert.equal(cleared.subscribers, 0);
      } finally {
        client.stop();
      }
    });

    it('counts an unreachable server as connect failures', async () => {
      const client = LoadClient.start(1, { client: 'native', threads: 1 });
      try {
        const closed = new ScriptedServer('silent');
        await closed.start();
        const port = closed.port;
        await closed.stop();
        const report = await client.connect({ request: { host: '127.0.0.1', port, path: '/wse' }, topics: ['t'], batch: 5, batchTimeoutMs: 5000 }, 5);
        assert.equal(report.connectFailures, 5);
        assert.equal(report.firstError, `connect ECONNREFUSED 127.0.0.1:${port}`);
      } finally {
        client.stop();
      }
    });
  });

  it('answers bad commands with an error reply and keeps going', async () => {
    const child = spawn(NATIVE_LOAD_BIN, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    const replies: LoadReply[] = [];
    child.on('message', (reply: LoadReply) => replies.push(reply));
    const ask = async (message: object): Promise<LoadReply> => {
      const before = replies.length;
      child.send(message);
      for (let i = 0; i < 200 && replies.length === before; i++) await new Promise((r) => setTimeout(r, 10));
      return replies[before]!;
    };
    try {
      assert.deepEqual(await ask({ op: 'explode', id: 1 }), { id: 1, ok: false, error: 'unknown op' });
      const bad = await ask({ op: 'connect', spec: { request: { host: '127.0.0.1' }, topics: ['t'], offset: 0, count: 1, batch: 1, batchTimeoutMs: 10 }, id: 2 });
      assert.equal(bad.id, 2);
      assert.equal(bad.ok, false);
      assert.match(!bad.ok ? bad.error : '', /spec\.request needs host/);
      const report = await ask({ op: 'report', id: 3 });
      assert.ok(report.ok && report.report?.subscribers === 0 && (report.report.latency.min as number | null) === null);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.disconnect();
      assert.equal(await exited, 0, 'exits when the channel closes');
    } finally {
      child.kill();
    }
  });
});

describe('native load client, not built', () => {
  it('says so when the binary is missing', () => {
    assert.throws(() => LoadClient.start(1, { client: 'native', nativeBin: '/nonexistent/wse-load' }), (error: unknown) => {
      assert.ok(error instanceof BenchError);
      assert.equal(error.code, 'WSE_BENCH_ERR_SPAWN');
      assert.match(error.message, /native load client not built: \/nonexistent\/wse-load is missing/);
      return true;
    });
  });
});
