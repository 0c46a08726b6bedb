import { BenchError } from '../errors.js';
import type { HistogramSummary } from '../load/latency-histogram.js';
import type { LoadClient, LoadReport } from '../load/load-client.js';
import { Publisher, type PublishResult } from '../publish/publisher.js';
import { counterDeltas, scrapeNodes, sumCounter, usageBetween } from '../server/node-observer.js';
import { nowMicros } from '../sys/clock.js';
import { shares } from './split.js';
import type { BenchTarget } from './target.js';
import { chooseTopic, type TopicOwnerChoice } from './topic-owner.js';

export interface TierRunOptions {
  subscribers: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Subscribers opened at once per load process. */
  batch: number;
  publishWindow: number;
  messageBytes: number;
  /** Subscribers per node in this proportion (one weight per node of the target). */
  split: number[];
  /** Sent as `Cookie: access_token=…` by every connection (PROTOCOL.md §2). */
  token: string;
  /** Which node's worker sequences the run's topic (clusters only). */
  topicOwner: TopicOwnerChoice;
}

/** One measured run of one tier against one server. Rates are per second of the window. */
export interface TierRunResult {
  server: string;
  /** The node whose worker sequenced the topic; null for one node, or when the cluster does not say. */
  topicOwner: string | null;
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
  /** Sums over the nodes (null when any node could not be observed). */
  serverCpuPercent: number | null;
  serverRssMb: number | null;
  /** Server counters' change over the run (`/metrics`), summed over nodes, where the server exposes them. */
  serverCounters: Record<string, number> | null;
  nodes: NodeRunStats[];
  countCheck: CountCheck;
}

export interface NodeRunStats {
  node: string;
  subscribers: number;
  cpuPercent: number | null;
  rssMb: number | null;
  /** Change of `wse_slow_consumer_drops_total` and `wse_messages_sent_total` over the run. */
  counters: Record<string, number> | null;
}

/**
 * The independent count: publications the servers say they delivered (`wse_messages_sent_total`
 * over the whole run: scraped after the subscribers and the publisher are connected, before the
 * first publication, and again after the last delivery arrived) against the deliveries the load
 * processes counted over the same span (warm-up, window and drain).
 */
export interface CountCheck {
  serverSent: number | null;
  clientDelivered: number;
  /** serverSent − clientDelivered; null without server metrics. */
  difference: number | null;
}

const SERVER_COUNTERS = ['wse_slow_consumer_drops_total', 'wse_messages_sent_total'] as const;
/** Time given to the load processes to learn the window before it opens. */
const WINDOW_LEAD_US = 200_000;
const CONNECT_BATCH_TIMEOUT_MS = 60_000;
const PUBLISHER_DRAIN_MS = 30_000;
const SETTLE_QUIET_MS = 2_000;
const SETTLE_TIMEOUT_MS = 60_000;

export async function runTier(target: BenchTarget, client: LoadClient, options: TierRunOptions): Promise<TierRunResult> {
  const { topic, owner } = await chooseTopic(target, options.subscribers, options.topicOwner);
  const headers = { Cookie: `access_token=${options.token}` };
  const requests = target.nodes.map(({ endpoint }) => ({ host: endpoint.host, port: endpoint.port, path: target.path, headers }));
  const perNode = shares(options.subscribers, options.split.length === requests.length ? options.split : requests.map(() => 1));
  try {
    await connectSubscribers(client, requests, perNode, topic, options);
    const publisher = await Publisher.connect({
      request: requests[0]!,
      topic,
      type: 'bench',
      window: options.publishWindow,
      messageBytes: options.messageBytes,
      readyTimeoutMs: CONNECT_BATCH_TIMEOUT_MS,
    });
    try {
      return await measure(target, client, publisher, perNode, options, owner);
    } finally {
      publisher.close();
    }
  } finally {
    await client.closeAll();
  }
}

/** `perNode[i]` subscribers on node i (each node's share spread over the load processes). */
async function connectSubscribers(
  client: LoadClient,
  requests: Array<{ host: string; port: number; path: string; headers: Record<string, string> }>,
  perNode: number[],
  topic: string,
  options: TierRunOptions,
): Promise<void> {
  let report: LoadReport | null = null;
  for (let i = 0; i < requests.length; i++) {
    const count = perNode[i]!;
    if (count === 0) continue;
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
  perNode: number[],
  options: TierRunOptions,
  topicOwner: string | null,
): Promise<TierRunResult> {
  const startUs = nowMicros() + WINDOW_LEAD_US + options.warmupSeconds * 1e6;
  const endUs = startUs + options.durationSeconds * 1e6;
  await client.setWindow(startUs, endUs);
  publisher.setWindow(startUs, endUs);
  const usage = usageBetween(target.nodes, startUs, endUs);
  const countersBefore = await scrapeNodes(target.nodes, SERVER_COUNTERS);
  const published = await publisher.run(endUs, PUBLISHER_DRAIN_MS);
  const report = await client.settle(published.sent - 1, SETTLE_QUIET_MS, SETTLE_TIMEOUT_MS);
  const counters = counterDeltas(countersBefore, await scrapeNodes(target.nodes, SERVER_COUNTERS));
  const nodes = await usage;
  const nodeStats = target.nodes.map((node, i): NodeRunStats => ({
    node: node.name,
    subscribers: perNode[i]!,
    cpuPercent: nodes[i]?.cpuPercent ?? null,
    rssMb: nodes[i]?.rssMb ?? null,
    counters: counters[i] ?? null,
  }));
  return summarize(target, options, published, report, nodeStats, topicOwner);
}

function summarize(
  target: BenchTarget,
  options: TierRunOptions,
  published: PublishResult,
  report: LoadReport,
  nodes: NodeRunStats[],
  topicOwner: string | null,
): TierRunResult {
  const perNodeCounters = nodes.map((n) => n.counters);
  const serverSent = sumCounter(perNodeCounters, 'wse_messages_sent_total');
  const seconds = options.durationSeconds;
  const expected = (published.sent - published.refused) * report.live;
  return {
    server: target.label,
    topicOwner,
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
    serverCpuPercent: sumOf(nodes.map((n) => n.cpuPercent)),
    serverRssMb: sumOf(nodes.map((n) => n.rssMb)),
    serverCounters: sumCounters(perNodeCounters),
    nodes,
    countCheck: { serverSent, clientDelivered: report.deliveries, difference: serverSent === null ? null : serverSent - report.deliveries },
  };
}

function sumOf(values: Array<number | null>): number | null {
  return values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + v!, 0);
}

function sumCounters(perNode: Array<Record<string, number> | null>): Record<string, number> | null {
  if (perNode.length === 0 || perNode.some((c) => c === null)) return null;
  return Object.fromEntries(SERVER_COUNTERS.flatMap((name) => {
    const total = sumCounter(perNode, name);
    return total === null ? [] : [[name, total]];
  }));
}
