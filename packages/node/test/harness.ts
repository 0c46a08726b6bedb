import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';

/** The `wse` entry point, as a user runs it. */
export const WSE_BIN = fileURLToPath(new URL('../../bin/wse.js', import.meta.url));
export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnop';
export const TEST_API_KEY = 'test-api-key-0123456789';

/** A free loopback port (bound then released; good enough for tests on one machine). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** `count` consecutive free loopback ports (mesh ports: worker i uses base + i). */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const servers = [];
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const server = createServer();
      ok = await new Promise<boolean>((resolve) => {
        server.once('error', () => resolve(false));
        server.listen(base + i, '127.0.0.1', () => resolve(true));
      });
      servers.push(server);
    }
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    if (ok) return base;
  }
  throw new Error('no free port range');
}

export interface NodeProcess {
  child: ChildProcess;
  port: number;
  metricsPort: number;
  url: string;
  logs: string[];
  /** SIGTERM and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves with the first log line (parsed) matching the predicate. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Flags that name a key source of their own: the node then starts without the test secret. */
/** Arguments that bring the node's key themselves (a config file may): no test secret is added. */
const OWN_KEY_SOURCES = ['--jwt-jwks-url', '--jwt-public-key', '--no-auth', '--config'];

/** Several workers mesh on ports from --mesh-port up: free ones, unless the test names its own. */
async function meshPortArgs(extraArgs: string[]): Promise<string[]> {
  const at = extraArgs.indexOf('--workers');
  const workers = at >= 0 ? Number(extraArgs[at + 1]) : 1;
  if (workers <= 1 || extraArgs.includes('--mesh-port')) return [];
  return ['--mesh-port', String(await freePortRange(workers))];
}

/**
 * Starts a real `wse start` process on free loopback ports and resolves once it logged "wse ready".
 * On failure the collected output is in the error, so a broken start shows why.
 */
export async function startNode(extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<NodeProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    WSE_BIN, 'start', '--host', '127.0.0.1', '--port', String(port), '--metrics-port', String(metricsPort),
    '--workers', '1', ...(extraArgs.some((a) => OWN_KEY_SOURCES.includes(a)) ? [] : ['--jwt-secret', TEST_SECRET]),
    '--api-key', TEST_API_KEY, '--log-level', 'info', ...(await meshPortArgs(extraArgs)), ...extraArgs,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const logs: string[] = [];
  const listeners = new Set<(line: Record<string, unknown>) => void>();
  const onLine = (text: string): void => {
    logs.push(text);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const listener of listeners) listener(parsed);
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);

  const waitForLog = (match: (line: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(listener);
        reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${logs.join('\n')}`));
      }, timeoutMs);
      const listener = (line: Record<string, unknown>): void => {
        if (!match(line)) return;
        clearTimeout(timer);
        listeners.delete(listener);
        resolve(line);
      };
      listeners.add(listener);
    });

  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await Promise.race([
    waitForLog((line) => line['msg'] === 'wse ready', 15_000),
    exited.then(([code]) => {
      throw new Error(`wse exited with ${code} before ready; output:\n${logs.join('\n')}`);
    }),
  ]);
  return {
    child,
    port,
    metricsPort,
    url: `ws://127.0.0.1:${port}/wse`,
    logs,
    waitForLog,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

/**
 * Keys that occur more than once at the top level of a JSON object line. JSON.parse keeps the last
 * one, so a log field that repeats a base field (node, worker, pid) hides it from log tools.
 */
export function repeatedTopLevelKeys(line: string): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let end = i + 1;
      while (end < line.length && line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
      if (depth === 1 && line[end + 1] === ':') {
        const key = line.slice(i + 1, end);
        if (seen.has(key)) repeated.push(key);
        seen.add(key);
      }
      i = end;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return repeated;
}

/** Runs `wse …` to completion and returns its exit code and output. */
export async function runWse(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [WSE_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, timeout: timeoutMs });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

export interface TokenOptions {
  sub?: string;
  ttlSeconds?: number;
  claims?: Record<string, unknown>;
  secret?: string;
}

/** An HS256 token signed with the test secret, allowing every topic and publishing by default. */
export async function makeToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { wse_topics: { allow: ['*'] }, wse_publish: { allow: ['*'] }, ...options.claims };
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now).setExpirationTime(now + (options.ttlSeconds ?? 3600));
  if (options.sub !== '') jwt.setSubject(options.sub ?? 'alice');
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_SECRET));
}

/** GETs a metrics-port path. */
export async function getText(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

/** Reads one sample of a metric from Prometheus text (sums over series matching the label filter). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!Object.entries(labels).every(([key, value]) => rest.includes(`${key}="${value}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** POSTs JSON to the HTTP API with the test API key. */
export async function api(port: number, path: string, body?: unknown, key = TEST_API_KEY): Promise<{ status: number; json: any; headers: Headers }> {
  const init: RequestInit = body === undefined
    ? { headers: { authorization: `apikey ${key}` } }
    : { method: 'POST', headers: { authorization: `apikey ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await response.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, json, headers: response.headers };
}

export const CLUSTER_SECRET = 'cluster-secret-for-tests-0123456789';

export interface ClusterNode extends NodeProcess {
  nodeId: string;
  meshPort: number;
}

/**
 * Mesh flags laid out as on a real host: listening on every interface and advertising an address
 * (127.0.0.2) other than the loopback one siblings and `--peers` use, so each worker has two names.
 */
export function productionMesh(meshPort: number): string[] {
  return ['--mesh-port', String(meshPort), '--mesh-host', '0.0.0.0', '--mesh-advertise', `127.0.0.2:${meshPort}`];
}

/**
 * Starts `nodes` nodes of `workers` workers each, meshed on loopback (node i > 0 names node 0's
 * mesh port as its peer; gossip does the rest), and waits until every worker links every other.
 * `extraArgs` is given to every node, or computed per node index.
 */
export async function startCluster(nodes: number, workers: number, extraArgs: string[] | ((index: number) => string[]) = []): Promise<ClusterNode[]> {
  const meshPorts: number[] = [];
  for (let i = 0; i < nodes; i++) meshPorts.push(await freePortRange(workers));
  const starts = await Promise.allSettled(
    meshPorts.map(async (meshPort, i) => {
      const args = ['--workers', String(workers), '--node-id', `n${i}`, ...productionMesh(meshPort), '--cluster-secret', CLUSTER_SECRET, ...(typeof extraArgs === 'function' ? extraArgs(i) : extraArgs)];
      if (i > 0) args.push('--peers', `127.0.0.1:${meshPorts[0]}`);
      const node = await startNode(args);
      return Object.assign(node, { nodeId: `n${i}`, meshPort });
    }),
  );
  const started = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = starts.find((s) => s.status === 'rejected');
  if (failed !== undefined) {
    // The nodes that did start would keep the test process alive.
    await Promise.all(started.map((node) => node.stop()));
    throw failed.reason;
  }
  try {
    await waitForMesh(started, nodes * workers);
  } catch (error) {
    await Promise.all(started.map((node) => node.stop()));
    throw error;
  }
  return started;
}

/** Polls `condition` every 50 ms until it holds (only where no event exists); throws after `ms`. */
export async function waitUntil(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Polls /health until every worker of every node has a link to every other member. A failed poll
 * (a keep-alive connection the server closed as the request went out) is retried.
 */
export async function waitForMesh(nodes: NodeProcess[], members: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const reports = await Promise.all(nodes.map(async (node) => JSON.parse((await getText(node.metricsPort, '/health')).body))).catch((error: Error) => {
      last = `poll failed: ${error.message} (${String((error.cause as Error | undefined)?.message)})`;
      return null;
    });
    if (reports === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    const linked = reports.flatMap((report) => report.workers.map((w: any) => new Set((w.mesh?.members ?? []).filter((m: any) => m.connected).map((m: any) => m.instance_id)).size));
    last = linked.join(',');
    if (linked.length === members && linked.every((n: number) => n === members - 1)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`mesh did not converge to ${members} members within ${timeoutMs} ms (links per worker: ${last})`);
}

/** The worker (pid, instance id) that sequences `topic`, as the cluster sees it. */
export async function ownerOf(node: NodeProcess, topic: string, nodes: NodeProcess[]): Promise<{ node: NodeProcess; pid: number; instanceId: string }> {
  const { json } = await api(node.port, `/api/info?topic=${encodeURIComponent(topic)}`);
  for (const candidate of nodes) {
    const report = JSON.parse((await getText(candidate.metricsPort, '/health')).body);
    const worker = report.workers.find((w: any) => w.mesh?.instance_id === json.owner);
    if (worker !== undefined) return { node: candidate, pid: worker.pid, instanceId: json.owner };
  }
  throw new Error(`owner ${json.owner} of ${topic} not found`);
}
