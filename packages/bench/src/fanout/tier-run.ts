import { randomBytes } from 'node:crypto';
import { BenchError } from '../errors.js';
import type { HistogramSummary } from '../load/latency-histogram.js';
import type { LoadClient, LoadReport } from '../load/load-client.js';
import { Publisher, type PublishResult } from '../publish/publisher.js';
import { nowMicros } from '../sys/clock.js';
import { sampleProcessTree, type TreeUsage } from '../sys/process-usage.js';
import { scrapeCounters } from './metrics-scrape.js';
import type { BenchTarget } from './target.js';

export interface TierRunOptions {
  subscribers: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Subscribers opened at once per load process. */
  batch: number;
  publishWindow: number;
  messageBytes: number;
  /** Sent as `Cookie: access_token=…` by every connection (PROTOCOL.md §2). */
  token: string;
}

/** One measured run of one tier against one server. Rates are per second of the window. */
export interface TierRunResult {
  server: string;
  subscribers: number;
  seconds: number;
  published: number;
  publishedPerSec: number;
  deliveries: number;
  deliveriesPerSec: number;
  mbPerSec: number;
  avgMessageBytes: number;
  /** Whole run (warm-up and drain included): expected = accepted publications × subscribers. */
  expectedDeliveries: number;
  totalDeliveries: number;
  missing: number;
  seqGaps: number;
  seqDuplicates: number;
  offsetGaps: number;
  offsetDuplicates: number;
  refusedPublishes: number;
  /** The first refused `publish_ack` (e.g. RATE_LIMITED), verbatim. */
  firstRefusal: string;
  /** Subscribers closed by the server during the run, by close code. */
  closes: Record<string, number>;
  /** Publish-to-receipt latency in microseconds, for messages published inside the window. */
  latency: HistogramSummary;
  clientCpuPercent: number;
  clientProcesses: number;
  serverCpuPercent: number | null;
  serverRssMb: number | null;
  /** Server counters' change over the run (`/metrics`), where the server exposes them. */
  serverCounters: Record<string, number> | null;
}

const SERVER_COUNTERS = ['wse_slow_consumer_drops_total', 'wse_messages_sent_total'] as const;
/** Time given to the load processes to learn the window before it opens. */
const WINDOW_LEAD_US = 200_000;
const CONNECT_BATCH_TIMEOUT_MS = 60_000;
const PUBLISHER_DRAIN_MS = 30_000;
const SETTLE_QUIET_MS = 2_000;
const SETTLE_TIMEOUT_MS = 60_000;

export async function runTier(target: BenchTarget, client: LoadClient, options: TierRunOptions): Promise<TierRunResult> {
  const topic = `fanout-${options.subscribers}-${randomBytes(4).toString('hex')}`;
  const headers = { Cookie: `access_token=${options.token}` };
  const requests = target.endpoints.map((e) => ({ host: e.host, port: e.port, path: target.path, headers }));
  try {
    await connectSubscribers(client, requests, topic, options);
    const publisher = await Publisher.connect({
      request: requests[0]!,
      topic,
      type: 'bench',
      window: options.publishWindow,
      messageBytes: options.messageBytes,
      readyTimeoutMs: CONNECT_BATCH_TIMEOUT_MS,
    });
    try {
      return await measure(target, client, publisher, options);
    } finally {
      publisher.close();
    }
  } finally {
    await client.closeAll();
  }
}

/** Subscribers split evenly over the target's endpoints (a cluster's nodes). */
async function connectSubscribers(
  client: LoadClient,
  requests: Array<{ host: string; port: number; path: string; headers: Record<string, string> }>,
  topic: string,
  options: TierRunOptions,
): Promise<void> {
  let report: LoadReport | null = null;
  for (let i = 0; i < requests.length; i++) {
    const count = Math.floor(options.subscribers / requests.length) + (i < options.subscribers % requests.length ? 1 : 0);
    const spec = { request: requests[i]!, topics: [topic], batch: options.batch, batchTimeoutMs: CONNECT_BATCH_TIMEOUT_MS };
    report = await client.connect(spec, count);
  }
  if (report !== null && report.connectFailures > 0) {
    throw new BenchError('WSE_BENCH_ERR_SUBSCRIBE', `${report.connectFailures} subscribers failed: ${report.firstError}`);
  }
}

async function measure(
  target: BenchTarget,
  client: LoadClient,
  publisher: Publisher,
  options: TierRunOptions,
): Promise<TierRunResult> {
  const startUs = nowMicros() + WINDOW_LEAD_US + options.warmupSeconds * 1e6;
  const endUs = startUs + options.durationSeconds * 1e6;
  await client.setWindow(startUs, endUs);
  publisher.setWindow(startUs, endUs);
  const serverUsage = sampleServerAt(target, startUs, endUs);
  const countersBefore = await scrapeAll(target);
  const published = await publisher.run(endUs, PUBLISHER_DRAIN_MS);
  const report = await client.settle(published.sent - 1, SETTLE_QUIET_MS, SETTLE_TIMEOUT_MS);
  const countersAfter = await scrapeAll(target);
  return summarize(target, options, published, report, await serverUsage, diff(countersBefore, countersAfter));
}

function summarize(
  target: BenchTarget,
  options: TierRunOptions,
  published: PublishResult,
  report: LoadReport,
  server: { cpuPercent: number; rssMb: number } | null,
  counters: Record<string, number> | null,
): TierRunResult {
  const seconds = options.durationSeconds;
  const expected = (published.sent - published.refused) * report.live;
  return {
    server: target.kind,
    subscribers: report.live,
    seconds,
    published: published.windowSent,
    publishedPerSec: published.windowSent / seconds,
    deliveries: report.windowDeliveries,
    deliveriesPerSec: report.windowDeliveries / seconds,
    mbPerSec: report.windowBytes / seconds / 1e6,
    avgMessageBytes: report.windowDeliveries === 0 ? 0 : report.windowBytes / report.windowDeliveries,
    expectedDeliveries: expected,
    totalDeliveries: report.deliveries,
    missing: expected - report.deliveries,
    seqGaps: report.seqGaps,
    seqDuplicates: report.seqDuplicates,
    offsetGaps: report.offsetGaps,
    offsetDuplicates: report.offsetDuplicates,
    refusedPublishes: published.refused,
    firstRefusal: published.firstRefusal,
    closes: report.closes,
    latency: report.latency.summary(),
    clientCpuPercent: report.cpuWallMicros === 0 ? 0 : (report.cpuMicros / report.cpuWallMicros) * 100,
    clientProcesses: report.processes,
    serverCpuPercent: server?.cpuPercent ?? null,
    serverRssMb: server?.rssMb ?? null,
    serverCounters: counters,
  };
}

/** CPU over the window and RSS at its end, of a spawned server's whole process tree. */
async function sampleServerAt(target: BenchTarget, startUs: number, endUs: number) {
  const pid = target.pid;
  if (pid === null) return null;
  await sleepUntil(startUs);
  const first = sampleProcessTree(pid);
  await sleepUntil(endUs);
  const last = sampleProcessTree(pid);
  if (first === null || last === null) return null;
  return { cpuPercent: cpuPercent(first, last, endUs - startUs), rssMb: last.rssBytes / 1024 / 1024 };
}

function cpuPercent(first: TreeUsage, last: TreeUsage, wallMicros: number): number {
  return ((last.cpuMicros - first.cpuMicros) / wallMicros) * 100;
}

async function scrapeAll(target: BenchTarget): Promise<Record<string, number> | null> {
  if (target.metricsUrls.length === 0) return null;
  const scrapes = await Promise.all(target.metricsUrls.map((url) => scrapeCounters(url, SERVER_COUNTERS)));
  if (scrapes.some((s) => s === null)) return null;
  const total: Record<string, number> = {};
  for (const scrape of scrapes) for (const [k, v] of Object.entries(scrape!)) total[k] = (total[k] ?? 0) + v;
  return total;
}

function diff(before: Record<string, number> | null, after: Record<string, number> | null): Record<string, number> | null {
  if (before === null || after === null) return null;
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

function sleepUntil(us: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, (us - nowMicros()) / 1000)));
}
