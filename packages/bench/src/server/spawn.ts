import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../errors.js';

/** This package's CLI, for starting its own servers (baseline, frame writer) as separate processes. */
export const BENCH_BIN = fileURLToPath(new URL('../../../bin/wse-bench.js', import.meta.url));

export type Readiness =
  /** A line of stdout matching the pattern (its first group is kept, e.g. a port). */
  | { kind: 'line'; pattern: RegExp }
  /** An HTTP GET answering 200. */
  | { kind: 'http'; url: string };

export interface SpawnedServer {
  readonly pid: number;
  /** The readiness line's first capture group, if any. */
  readonly captured: string;
  /** The last lines the process printed (for error reports). */
  outputTail(): string;
  stop(): Promise<void>;
}

const TAIL_LINES = 40;
const POLL_MS = 100;
const STOP_GRACE_MS = 5000;

export async function spawnServer(
  command: string,
  args: string[],
  readiness: Readiness,
  timeoutMs: number,
): Promise<SpawnedServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let captured = '';
  let lineSeen: (() => void) | null = null;
  const onOutput = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      const match = readiness.kind === 'line' ? readiness.pattern.exec(line) : null;
      if (match !== null && lineSeen !== null) {
        captured = match[1] ?? '';
        lineSeen();
      }
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const server: SpawnedServer = {
    pid: child.pid ?? 0,
    get captured() {
      return captured;
    },
    outputTail: () => tail.join('\n'),
    stop: () => stop(child, exited),
  };
  const ready =
    readiness.kind === 'line'
      ? new Promise<void>((resolve) => (lineSeen = resolve))
      : pollHttp(readiness.url, child);
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    delay(timeoutMs).then(() => 'timeout' as const),
  ]);
  if (outcome === 'ready') return server;
  await server.stop();
  throw new BenchError(
    'WSE_BENCH_ERR_SPAWN',
    `${command} ${args.join(' ')}: ${outcome === 'exited' ? 'exited before it was ready' : `not ready after ${timeoutMs} ms`}\n${server.outputTail()}`,
  );
}

async function pollHttp(url: string, child: ChildProcess): Promise<void> {
  while (child.exitCode === null && child.signalCode === null) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await delay(POLL_MS);
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
