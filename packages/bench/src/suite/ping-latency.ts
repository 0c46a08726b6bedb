import { randomBytes } from 'node:crypto';
import { LoadClient } from '../load/load-client.js';
import { LatencyHistogram } from '../load/latency-histogram.js';
import { count, ms } from '../report/grid.js';
import { Publisher } from '../publish/publisher.js';
import { nowMicros } from '../sys/clock.js';
import { shares } from '../fanout/split.js';
import { closeSessions, openSessions } from './connections.js';
import type { Session } from './session.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface PingOptions {
  /** Subscribers receiving the fan-out load. */
  connections: number;
  /** Connections that ping, each one ping at a time. */
  probes: number;
  seconds: number;
  /** Pause between a PONG and the next ping of the same probe. */
  intervalMs: number;
  clientProcs: number;
  timeoutMs: number;
}

const PONG_WAIT_MS = 5000;

/**
 * Application ping round trip (PROTOCOL.md §6: `ping` → `PONG`), first on an idle server, then while
 * `connections` subscribers receive a publisher's stream as fast as the server accepts it.
 */
export async function pingLatency(ctx: SuiteContext, options: PingOptions): Promise<Section> {
  const phase = { hist: new LatencyHistogram(), running: false };
  const schedule = (s: Session): void => void setTimeout(() => phase.running && s.ping(), options.intervalMs);
  const probes = await openSessions(ctx.target, options.probes, {
    token: ctx.token, concurrency: options.probes, timeoutMs: options.timeoutMs,
    listener: { onPong: (s, rtt) => { phase.hist.record(rtt); schedule(s); } },
  });
  const client = LoadClient.start(options.clientProcs);
  const rows: string[][] = [];
  const data: Record<string, unknown> = {};
  let failed = probes.failed > 0;
  try {
    const run = async (label: string, load: () => Promise<number>): Promise<void> => {
      phase.hist = new LatencyHistogram();
      const before = probes.sessions.reduce((n, s) => n + s.pings - s.pongs, 0);
      phase.running = true;
      for (const s of probes.sessions) s.ping();
      const deliveriesPerSec = await load();
      phase.running = false;
      await waitForPongs(probes.sessions);
      const unanswered = probes.sessions.reduce((n, s) => n + s.pings - s.pongs, 0) - before;
      const h = phase.hist.summary();
      rows.push([label, count(deliveriesPerSec), String(h.count), String(unanswered), ms(h.p50), ms(h.p90), ms(h.p99), ms(h.p999), ms(h.max)]);
      data[label] = { deliveriesPerSec, rtt: h, unanswered };
      failed ||= unanswered > 0;
      ctx.progress(`ping-latency ${label}: p50 ${ms(h.p50)} ms, p99 ${ms(h.p99)} ms over ${h.count} pings`);
    };
    await run('idle', () => delay(options.seconds * 1000).then(() => 0));
    await run(`under fan-out to ${options.connections}`, () => fanoutLoad(ctx, client, options));
  } finally {
    client.stop();
    await closeSessions(probes.sessions);
  }
  return {
    title: 'ping-latency',
    setup: `${targetDescription(ctx.target)}; ${options.probes} probe connection(s), one ping at a time, ${options.intervalMs} ms apart, ${options.seconds} s per phase; round trip in ms`,
    columns: ['phase', 'deliveries/s', 'pings', 'unanswered', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    rows,
    notes: probes.failed > 0 ? [`${probes.failed} probes failed to connect: ${probes.firstError}`] : [],
    failed,
    data,
  };
}

/** Subscribers on every node, a publisher on the first, publishing for the phase; deliveries/s. */
async function fanoutLoad(ctx: SuiteContext, client: LoadClient, options: PingOptions): Promise<number> {
  const topic = `ping-load-${randomBytes(4).toString('hex')}`;
  const headers = { Cookie: `access_token=${ctx.token}` };
  const requests = ctx.target.nodes.map(({ endpoint }) => ({ ...endpoint, path: ctx.target.path, headers }));
  const perNode = shares(options.connections, requests.map(() => 1));
  try {
    for (const [i, request] of requests.entries()) {
      await client.connect({ request, topics: [topic], batch: 500, batchTimeoutMs: options.timeoutMs }, perNode[i]!);
    }
    const publisher = await Publisher.connect({ request: requests[0]!, topic, type: 'bench', window: 16, messageBytes: 100, readyTimeoutMs: options.timeoutMs });
    try {
      const startUs = nowMicros();
      const endUs = startUs + options.seconds * 1e6;
      await client.setWindow(startUs, endUs);
      publisher.setWindow(startUs, endUs);
      const published = await publisher.run(endUs, PONG_WAIT_MS);
      const report = await client.settle(published.sent - 1, 1000, PONG_WAIT_MS);
      return report.windowDeliveries / options.seconds;
    } finally {
      publisher.close();
    }
  } finally {
    await client.closeAll();
  }
}

async function waitForPongs(sessions: Session[]): Promise<void> {
  const deadline = Date.now() + PONG_WAIT_MS;
  while (sessions.some((s) => s.isReady && s.pongs < s.pings) && Date.now() < deadline) await delay(10);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
