/**
 * Link benchmark: one publishing member (owner of the topic) and 1 or 31 interested members in a
 * second process, over loopback. ~100-byte MSG frames; the publisher is paced by flow control.
 * Reports per-link frames/s and bytes/s and CPU per side, medians of 3 runs.
 *
 * `--api sync` (default) publishes with publishNow and falls back to awaiting publish when it
 * returns null (a full link): the loop a caller that can wait writes. `--api promise` calls
 * publish for every message, 2048 at a time, and awaits the last (what the server's router does).
 *
 *   node dist/bench/link-bench.js [--seconds 3] [--runs 3] [--members 1,31] [--api sync|promise]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MeshMember } from '../src/index.js';

const BODY = Buffer.from('{"c":"' + 'x'.repeat(20) + '"}'); // MSG record ≈ 100 B with the stamp and trailer
const TOPIC_PREFIX = 'bench-';

interface RunResult {
  frames: number;
  seconds: number;
  senderCpu: number;
  receiverCpu: number;
  recordBytes: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

function member(index: number, peers: string[]): MeshMember {
  return new MeshMember({
    nodeId: 'bench',
    workerIndex: index,
    workerCount: 64,
    listen: { host: '127.0.0.1', port: 0 },
    peers,
    recovery: true,
    compression: false,
    tuning: { backoffInitialMs: 50 },
  });
}

/** Child: N members linked to the publisher, all interested in every bench topic. */
async function receiverMain(): Promise<void> {
  const n = Number(process.argv[3]);
  const publisher = process.argv[4]!;
  const members: MeshMember[] = [];
  let delivered = 0;
  for (let i = 0; i < n; i++) {
    const m = member(i + 1, [publisher]);
    m.onDeliver = () => {
      delivered++;
    };
    m.addInterest(`${TOPIC_PREFIX}*`);
    await m.start();
    members.push(m);
  }
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'mark') {
      process.send!({ delivered, cpu: process.cpuUsage() });
    } else if (msg.cmd === 'stop') {
      void Promise.all(members.map((m) => m.stop())).then(() => process.exit(0));
    }
  });
  process.send!({ ready: true });
}

function ask(child: ChildProcess): Promise<{ delivered: number; cpu: NodeJS.CpuUsage }> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as { delivered: number; cpu: NodeJS.CpuUsage }));
    child.send({ cmd: 'mark' });
  });
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('bench setup timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Publishes for `seconds`, paced by flow control. */
async function publishFor(pub: MeshMember, topic: string, seconds: number, api: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (api === 'promise') {
      let last: Promise<unknown> | null = null;
      for (let i = 0; i < 2048; i++) last = pub.publish(topic, BODY);
      await last;
    } else {
      for (let i = 0; i < 2048; i++) if (pub.publishNow(topic, BODY) === null) await pub.publish(topic, BODY);
    }
    // Let the event loop write and read between batches.
    await new Promise((r) => setImmediate(r));
  }
}

async function runOnce(n: number, seconds: number, api: string): Promise<RunResult> {
  const pub = member(0, []);
  await pub.start();
  const child = fork(fileURLToPath(import.meta.url), ['receiver', String(n), pub.address], { stdio: 'inherit' });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  await waitFor(() => pub.stats().peers === n, 20_000);
  let topic = '';
  for (let i = 0; topic === ''; i++) if (pub.ownerOf(TOPIC_PREFIX + i) === pub.instanceId) topic = TOPIC_PREFIX + i;
  // Let every receiver's RESYNC arrive before measuring.
  await new Promise((r) => setTimeout(r, 300));
  await pub.publish(topic, BODY);

  const before = await ask(child);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await publishFor(pub, topic, seconds, api);
  const after = await ask(child);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu1 = process.cpuUsage(cpu0);
  const rc = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1e6;
  child.send({ cmd: 'stop' });
  await pub.stop();
  await new Promise((r) => child.once('exit', r));
  const recordBytes = 4 + 8 + Buffer.byteLength(topic) + BODY.length + `"tp":"${topic}","e":"00000000","o":1000000,`.length + 12;
  return {
    frames: (after.delivered - before.delivered) / n,
    seconds: wall,
    senderCpu: (cpu1.user + cpu1.system) / 1e6 / wall,
    receiverCpu: rc / wall,
    recordBytes,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '3'));
  const runs = Number(arg('runs', '3'));
  const counts = arg('members', '1,31').split(',').map(Number);
  const api = arg('api', 'sync');
  for (const n of counts) {
    const results: RunResult[] = [];
    for (let r = 0; r < runs; r++) results.push(await runOnce(n, seconds, api));
    const fps = median(results.map((x) => x.frames / x.seconds));
    const rec = results[0]!.recordBytes;
    const sCpu = median(results.map((x) => x.senderCpu));
    const rCpu = median(results.map((x) => x.receiverCpu));
    console.log(
      JSON.stringify({
        interestedMembers: n,
        framesPerSecPerLink: Math.round(fps),
        bytesPerSecPerLink: Math.round(fps * rec),
        recordBytes: rec,
        senderCpuCores: +sCpu.toFixed(2),
        receiverCpuCores: +rCpu.toFixed(2),
        senderCpuNsPerFramePerLink: Math.round((sCpu * 1e9) / (fps * n)),
        api,
        runs,
        seconds,
      }),
    );
  }
}

if (process.argv[2] === 'receiver') void receiverMain();
else void main();
