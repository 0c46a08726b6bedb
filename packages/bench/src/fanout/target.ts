import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../errors.js';
import { waitForConvergence } from '../server/convergence.js';
import { BENCH_BIN, spawnServer, type SpawnedServer } from '../server/spawn.js';
import { freePort, freePortRange } from '../sys/free-port.js';

/** One server process (a WSE node or a baseline server): where clients go, where its metrics are. */
export interface BenchNode {
  /** `a`, `b`, … for spawned WSE nodes; the endpoint otherwise. */
  readonly name: string;
  readonly endpoint: { host: string; port: number };
  /** Prometheus endpoint (WSE nodes), for server-side counters. */
  readonly metricsUrl: string | null;
  /** Root pid of a spawned server, for its CPU and memory. */
  readonly pid: number | null;
  /** HTTP API key of a WSE node (spawned, or `--api-key`), for `GET /api/info`; null otherwise. */
  readonly apiKey: string | null;
}

/** A server or cluster the benchmarks run against: spawned here, or already running elsewhere. */
export interface BenchTarget {
  /** Row label and key of a comparison, e.g. `wse (2 nodes)`, `baseline`. */
  readonly label: string;
  readonly nodes: BenchNode[];
  readonly path: string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  nodes: number;
  workers: number;
  jwtSecret: string;
  /** Path of the WSE CLI; defaults to this repository's packages/node/bin/wse.js. */
  wseBin?: string;
  /** Extra `wse start` arguments (e.g. rate limits put back). */
  wseArgs: string[];
  readyTimeoutMs: number;
}

const WSE_BIN = fileURLToPath(new URL('../../../../node/bin/wse.js', import.meta.url));
const HOST = '127.0.0.1';
const NODE_NAMES = 'abcdefghijklmnopqrstuvwxyz';

export function wseLabel(nodes: number): string {
  return `wse (${nodes} node${nodes === 1 ? '' : 's'})`;
}

export async function spawnBaseline(readyTimeoutMs: number): Promise<BenchTarget> {
  const port = await freePort();
  const server = await spawnServer(
    process.execPath,
    [BENCH_BIN, 'baseline-server', '--host', HOST, '--port', String(port)],
    { kind: 'http', url: `http://${HOST}:${port}/health` },
    readyTimeoutMs,
  );
  return target('baseline', [{ server, node: { name: 'baseline', endpoint: { host: HOST, port }, metricsUrl: null, pid: server.pid, apiKey: null } }]);
}

/**
 * `options.nodes` WSE nodes on loopback; from two nodes on they form one mesh with a cluster
 * secret of this run, and the target is ready only when every worker sees every other worker
 * connected. Every node names every other node's mesh port in `--peers`: a node with one worker
 * and no peers does not join a mesh at all, so it cannot be the others' only seed.
 */
export async function spawnWseCluster(options: SpawnOptions): Promise<BenchTarget> {
  const clusterSecret = randomBytes(24).toString('hex');
  const apiKey = randomBytes(16).toString('hex');
  const meshPorts: number[] = [];
  for (let i = 0; i < options.nodes; i++) meshPorts.push(await freePortRange(options.workers));
  const started: Array<{ server: SpawnedServer; node: BenchNode }> = [];
  try {
    for (let i = 0; i < options.nodes; i++) {
      const name = NODE_NAMES[i] ?? `n${i}`;
      const [port, metricsPort] = [await freePort(), await freePort()];
      const peers = meshPorts.filter((_, j) => j !== i).map((p) => `${HOST}:${p}`).join(',');
      const mesh = options.nodes === 1 ? [] : ['--mesh-port', String(meshPorts[i]), '--node-id', name, '--cluster-secret', clusterSecret, '--peers', peers];
      const server = await spawnServer(
        process.execPath,
        [...wseStartArgs(options, port, metricsPort), '--api-key', apiKey, ...mesh, ...options.wseArgs],
        { kind: 'http', url: `http://${HOST}:${metricsPort}/health` },
        options.readyTimeoutMs,
      );
      const metricsUrl = `http://${HOST}:${metricsPort}/metrics`;
      started.push({ server, node: { name, endpoint: { host: HOST, port }, metricsUrl, pid: server.pid, apiKey } });
    }
    if (options.nodes > 1) await waitForConvergence(started.map((s) => s.node.metricsUrl!), options.readyTimeoutMs);
  } catch (error) {
    await Promise.all(started.map((s) => s.server.stop()));
    throw error;
  }
  return target(wseLabel(options.nodes), started);
}

function wseStartArgs(options: SpawnOptions, port: number, metricsPort: number): string[] {
  return [
    options.wseBin ?? WSE_BIN, 'start', '--host', HOST, '--port', String(port),
    '--metrics-port', String(metricsPort), '--jwt-secret', options.jwtSecret,
    '--workers', String(options.workers), '--log-level', 'warn',
    // Fan-out is measured, not the per-connection inbound rate limit or the connection cap;
    // `--wse-args` comes last, so a user can put either back.
    '--rate-limit-capacity', '1000000000', '--rate-limit-refill', '1000000000', '--max-connections', '1000000',
    // Connection batches from several load processes can exceed the default 512 sockets a
    // worker lets wait for their upgrade (PROTOCOL.md §1); extras would be closed.
    '--max-pending-upgrades', '1000000',
  ];
}

/**
 * `--targets host:port,…` (and `--metrics host:port,…`, same order) of servers already running;
 * `apiKey`: their HTTP API key, if the bench may ask them where a topic is sequenced.
 */
export function remoteTarget(label: string, targets: string[], metrics: string[], apiKey: string | null = null): BenchTarget {
  if (metrics.length > 0 && metrics.length !== targets.length) {
    throw new BenchError('WSE_BENCH_ERR_USAGE', `--metrics names ${metrics.length} endpoints for ${targets.length} targets`);
  }
  const nodes = targets.map((text, i): BenchNode => {
    const m = metrics[i];
    return { name: text, endpoint: parseHostPort(text), metricsUrl: m === undefined ? null : metricsUrlOf(m), pid: null, apiKey };
  });
  return { label, nodes, path: '/wse', stop: async () => undefined };
}

/** `host:port` of a metrics port, or a full URL. */
function metricsUrlOf(text: string): string {
  if (text.startsWith('http://') || text.startsWith('https://')) return text;
  const { host, port } = parseHostPort(text);
  return `http://${host}:${port}/metrics`;
}

function target(label: string, started: Array<{ server: SpawnedServer; node: BenchNode }>): BenchTarget {
  return {
    label,
    nodes: started.map((s) => s.node),
    path: '/wse',
    stop: async () => void (await Promise.all(started.map((s) => s.server.stop()))),
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
