import { BENCH_BIN, spawnServer } from '../server/spawn.js';
import { LoadClient, type LoadClientKind, type LoadReport } from './load-client.js';

export interface CeilingOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  messageBytes: number;
  processes: number;
  batch: number;
  /** Load process kind (default node) and, for native ones, worker threads per process. */
  client?: LoadClientKind;
  threads?: number;
}

export interface CeilingResult {
  client: LoadClientKind;
  threads: number;
  connections: number;
  processes: number;
  seconds: number;
  deliveries: number;
  deliveriesPerSec: number;
  mbPerSec: number;
  avgMessageBytes: number;
  /** Load processes' CPU over the measurement, in percent of one core (summed over processes). */
  clientCpuPercent: number;
}

export interface CeilingComparison {
  /** Per client kind, in the order asked: every run and the run with the median deliveries/s. */
  byClient: Array<{ client: LoadClientKind; runs: CeilingResult[]; median: CeilingResult }>;
}

const TOPIC = 'ceiling';
const BATCH_TIMEOUT_MS = 30_000;

/**
 * The load client's own limit: subscribers against a server that only writes pre-built frames
 * (a separate process), so every cycle the load processes spend is the client's work. The
 * frames' sequence wraps by design, so gap and duplicate counts are meaningless here.
 */
export async function measureClientCeiling(options: CeilingOptions): Promise<CeilingResult> {
  return withFrameServer(options, (port) => measureOnce(port, options));
}

/**
 * Several client kinds against the same frame server settings, runs interleaved (node, native,
 * node, …) so drift on the machine hits each alike; the median run per kind by deliveries/s. Each
 * run gets a fresh frame server: one still streaming to a closing client would starve the next
 * client's upgrades.
 */
export async function compareClientCeilings(
  options: CeilingOptions & { clients: LoadClientKind[]; runs: number },
): Promise<CeilingComparison> {
  const runs = new Map<LoadClientKind, CeilingResult[]>(options.clients.map((c) => [c, []]));
  for (let run = 0; run < Math.max(1, options.runs); run++) {
    for (const client of options.clients) runs.get(client)!.push(await measureClientCeiling({ ...options, client }));
  }
  return {
    byClient: options.clients.map((client) => {
      const list = runs.get(client)!;
      const sorted = [...list].sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec);
      return { client, runs: list, median: sorted[Math.floor((sorted.length - 1) / 2)]! };
    }),
  };
}

async function withFrameServer<T>(options: CeilingOptions, body: (port: number) => Promise<T>): Promise<T> {
  const server = await spawnServer(
    process.execPath,
    [
      BENCH_BIN, 'frame-server', '--port', '0', '--topic', TOPIC,
      '--message-bytes', String(options.messageBytes), '--start-after', String(options.connections),
    ],
    { kind: 'line', pattern: /listening on [\d.]+:(\d+)/ },
    15_000,
  );
  try {
    return await body(Number(server.captured));
  } finally {
    await server.stop();
  }
}

async function measureOnce(port: number, options: CeilingOptions): Promise<CeilingResult> {
  const client = LoadClient.start(options.processes, { client: options.client ?? 'node', threads: options.threads ?? 1 });
  try {
    const request = { host: '127.0.0.1', port, path: '/wse' };
    await client.connect({ request, topics: [TOPIC], batch: options.batch, batchTimeoutMs: BATCH_TIMEOUT_MS }, options.connections);
    // Every frame's publish time precedes the window; an open window makes each delivery record latency.
    await client.setWindow(0, Number.MAX_SAFE_INTEGER);
    await delay(options.warmupSeconds * 1000);
    const first = await client.report();
    await delay(options.seconds * 1000);
    return summarize(client, first, await client.report());
  } finally {
    await client.closeAll().catch(() => undefined);
    client.stop();
  }
}

function summarize(client: LoadClient, first: LoadReport, last: LoadReport): CeilingResult {
  const seconds = (last.reportedAtMicros - first.reportedAtMicros) / 1e6;
  const deliveries = last.deliveries - first.deliveries;
  const bytes = last.bytes - first.bytes;
  return {
    client: client.kind,
    threads: client.threads,
    connections: last.live,
    processes: last.processes,
    seconds,
    deliveries,
    deliveriesPerSec: deliveries / seconds,
    mbPerSec: bytes / seconds / 1e6,
    avgMessageBytes: deliveries === 0 ? 0 : bytes / deliveries,
    clientCpuPercent: ((last.cpuTotalMicros - first.cpuTotalMicros) / (seconds * 1e6)) * 100,
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
