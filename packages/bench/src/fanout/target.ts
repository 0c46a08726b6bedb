import { fileURLToPath } from 'node:url';
import { BenchError } from '../errors.js';
import { BENCH_BIN, spawnServer, type SpawnedServer } from '../server/spawn.js';
import { freePort } from '../sys/free-port.js';

/** A server the fan-out runs against: spawned here, or already running elsewhere. */
export interface BenchTarget {
  /** `wse` or `baseline`: the row label and the key of the comparison. */
  readonly kind: string;
  readonly endpoints: Array<{ host: string; port: number }>;
  readonly path: string;
  /** Prometheus endpoints (WSE nodes), for server-side counters. */
  readonly metricsUrls: string[];
  /** Root pid of a spawned server, for its CPU and memory. */
  readonly pid: number | null;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  workers: number;
  jwtSecret: string;
  /** Path of the WSE CLI; defaults to this repository's packages/node/bin/wse.js. */
  wseBin?: string;
  /** Extra `wse start` arguments (e.g. rate limits raised for the publisher). */
  wseArgs: string[];
  readyTimeoutMs: number;
}

const WSE_BIN = fileURLToPath(new URL('../../../../node/bin/wse.js', import.meta.url));
const HOST = '127.0.0.1';

export async function spawnTarget(kind: 'wse' | 'baseline', options: SpawnOptions): Promise<BenchTarget> {
  const port = await freePort();
  if (kind === 'baseline') {
    const server = await spawnServer(
      process.execPath,
      [BENCH_BIN, 'baseline-server', '--host', HOST, '--port', String(port)],
      { kind: 'http', url: `http://${HOST}:${port}/health` },
      options.readyTimeoutMs,
    );
    return spawned(kind, port, [], server);
  }
  const metricsPort = await freePort();
  const server = await spawnServer(
    process.execPath,
    [
      options.wseBin ?? WSE_BIN, 'start', '--host', HOST, '--port', String(port),
      '--metrics-port', String(metricsPort), '--jwt-secret', options.jwtSecret,
      '--workers', String(options.workers), '--log-level', 'warn',
      // Fan-out is measured, not the per-connection inbound rate limit or the connection cap;
      // `--wse-args` comes last, so a user can put either back.
      '--rate-limit-capacity', '1000000000', '--rate-limit-refill', '1000000000', '--max-connections', '1000000',
      ...options.wseArgs,
    ],
    { kind: 'http', url: `http://${HOST}:${metricsPort}/health` },
    options.readyTimeoutMs,
  );
  return spawned(kind, port, [`http://${HOST}:${metricsPort}/metrics`], server);
}

/** `--targets host:port,…` (and `--metrics host:port,…`) of servers already running. */
export function remoteTarget(kind: string, targets: string[], metrics: string[]): BenchTarget {
  return {
    kind,
    endpoints: targets.map(parseHostPort),
    path: '/wse',
    metricsUrls: metrics.map((m) => {
      const { host, port } = parseHostPort(m);
      return `http://${host}:${port}/metrics`;
    }),
    pid: null,
    stop: async () => undefined,
  };
}

function spawned(kind: string, port: number, metricsUrls: string[], server: SpawnedServer): BenchTarget {
  return {
    kind,
    endpoints: [{ host: HOST, port }],
    path: '/wse',
    metricsUrls,
    pid: server.pid,
    stop: () => server.stop(),
  };
}

export function parseHostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const port = Number(text.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new BenchError('WSE_BENCH_ERR_USAGE', `expected host:port, got "${text}"`);
  }
  return { host: text.slice(0, at), port };
}
