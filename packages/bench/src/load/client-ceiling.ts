import { BENCH_BIN, spawnServer } from '../server/spawn.js';
import { LoadClient, type LoadReport } from './load-client.js';

export interface CeilingOptions {
  connections: number;
  seconds: number;
  warmupSeconds: number;
  messageBytes: number;
  processes: number;
  batch: number;
}

export interface CeilingResult {
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

const TOPIC = 'ceiling';

/**
 * The load client's own limit: subscribers against a server that only writes pre-built frames
 * (a separate process), so every cycle the load processes spend is the client's work. The
 * frames' sequence wraps by design, so gap and duplicate counts are meaningless here.
 */
export async function measureClientCeiling(options: CeilingOptions): Promise<CeilingResult> {
  const server = await spawnServer(
    process.execPath,
    [
      BENCH_BIN, 'frame-server', '--port', '0', '--topic', TOPIC,
      '--message-bytes', String(options.messageBytes), '--start-after', String(options.connections),
    ],
    { kind: 'line', pattern: /listening on [\d.]+:(\d+)/ },
    15_000,
  );
  const client = LoadClient.start(options.processes);
  try {
    const request = { host: '127.0.0.1', port: Number(server.captured), path: '/wse' };
    await client.connect({ request, topics: [TOPIC], batch: options.batch, batchTimeoutMs: 30_000 }, options.connections);
    // Every frame's publish time precedes the window; an open window makes each delivery record latency.
    await client.setWindow(0, Number.MAX_SAFE_INTEGER);
    await delay(options.warmupSeconds * 1000);
    const first = await client.report();
    await delay(options.seconds * 1000);
    return summarize(first, await client.report());
  } finally {
    await client.closeAll().catch(() => undefined);
    client.stop();
    await server.stop();
  }
}

function summarize(first: LoadReport, last: LoadReport): CeilingResult {
  const seconds = (last.reportedAtMicros - first.reportedAtMicros) / 1e6;
  const deliveries = last.deliveries - first.deliveries;
  const bytes = last.bytes - first.bytes;
  return {
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
