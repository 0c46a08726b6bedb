import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BenchError } from '../errors.js';
import type { LoadCommand, LoadReply } from './ipc.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { ConnectSpec, PoolReport } from './subscriber-pool.js';

type CommandBody = LoadCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The load processes' reports combined; `latency` is merged into one histogram. */
export interface LoadReport extends Omit<PoolReport, 'latency'> {
  processes: number;
  latency: LatencyHistogram;
}

/** Which load process runs the subscribers: load-process.js, or the C client of native/ built by build:native. */
export type LoadClientKind = 'node' | 'native';

export interface LoadClientOptions {
  client?: LoadClientKind;
  /** Worker threads per native load process (each with its own epoll and share of subscribers). */
  threads?: number;
  /** The native binary; defaults to this package's dist/native/wse-load. */
  nativeBin?: string;
}

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.js', import.meta.url));
export const NATIVE_LOAD_BIN = fileURLToPath(new URL('../../native/wse-load', import.meta.url));

/**
 * Coordinates the load processes: subscribers are spread over `processes` children so that
 * counting deliveries is never what limits a run. Both kinds speak the commands of ipc.ts over
 * the JSON IPC channel (the native one as line-delimited JSON on the same channel).
 */
export class LoadClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: LoadReply) => void; reject: (e: Error) => void }>();

  private constructor(
    private readonly children: ChildProcess[],
    readonly kind: LoadClientKind,
    readonly threads: number,
  ) {
    for (const child of children) {
      child.on('message', (reply: LoadReply) => this.onReply(reply));
      child.on('exit', (code, signal) => this.onExit(`load process exited (${signal ?? code})`));
      child.on('error', (error) => this.onExit(`load process failed: ${error.message}`));
    }
  }

  static start(processes: number, options: LoadClientOptions = {}): LoadClient {
    const kind = options.client ?? 'node';
    const threads = kind === 'native' ? Math.max(1, Math.floor(options.threads ?? 1)) : 1;
    const count = Math.max(1, processes);
    if (kind === 'node') {
      const children = Array.from({ length: count }, () =>
        fork(LOAD_PROCESS, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
      );
      return new LoadClient(children, kind, threads);
    }
    const bin = options.nativeBin ?? NATIVE_LOAD_BIN;
    if (!existsSync(bin)) {
      throw new BenchError(
        'WSE_BENCH_ERR_SPAWN',
        `native load client not built: ${bin} is missing (run \`npm run build:native -w @wse/bench\`; it needs a C compiler, cc)`,
      );
    }
    const children = Array.from({ length: count }, () =>
      spawn(bin, ['--threads', String(threads)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' }),
    );
    return new LoadClient(children, kind, threads);
  }

  get processes(): number {
    return this.children.length;
  }

  get pids(): number[] {
    return this.children.map((child) => child.pid ?? 0);
  }

  /** Opens `count` subscribers spread evenly over the processes. */
  async connect(spec: Omit<ConnectSpec, 'count' | 'offset'>, count: number): Promise<LoadReport> {
    const n = this.children.length;
    let offset = 0;
    const replies = this.children.map((child, i) => {
      const share = Math.floor(count / n) + (i < count % n ? 1 : 0);
      const reply = this.send(child, { op: 'connect', spec: { ...spec, offset, count: share } });
      offset += share;
      return reply;
    });
    return merge(await Promise.all(replies));
  }

  async setWindow(startUs: number, endUs: number): Promise<void> {
    await this.broadcast({ op: 'window', startUs, endUs });
  }

  async settle(lastSeq: number, quietMs: number, timeoutMs: number): Promise<LoadReport> {
    return merge(await this.broadcast({ op: 'settle', lastSeq, quietMs, timeoutMs }));
  }

  async report(): Promise<LoadReport> {
    return merge(await this.broadcast({ op: 'report' }));
  }

  async closeAll(timeoutMs = 5000): Promise<void> {
    await this.broadcast({ op: 'close', timeoutMs });
  }

  /** Ends the load processes (they exit when their IPC channel closes). */
  stop(): void {
    for (const child of this.children) if (child.connected) child.disconnect();
  }

  private async broadcast(body: CommandBody): Promise<LoadReply[]> {
    return Promise.all(this.children.map((child) => this.send(child, body)));
  }

  private send(child: ChildProcess, body: CommandBody): Promise<LoadReply> {
    const id = this.nextId++;
    return new Promise<LoadReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...body, id } as LoadCommand);
    });
  }

  private onReply(reply: LoadReply): void {
    const waiter = this.pending.get(reply.id);
    if (waiter === undefined) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiter.resolve(reply);
    else waiter.reject(new BenchError('WSE_BENCH_ERR_CHILD', reply.error));
  }

  private onExit(why: string): void {
    const error = new BenchError('WSE_BENCH_ERR_CHILD', why);
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

function merge(replies: LoadReply[]): LoadReport {
  const reports = replies.flatMap((reply) => (reply.ok && reply.report ? [reply.report] : []));
  const latency = new LatencyHistogram();
  const total: LoadReport = {
    processes: reports.length, subscribers: 0, live: 0, connectFailures: 0, firstError: '',
    closes: {}, deliveries: 0, bytes: 0, windowDeliveries: 0, windowBytes: 0, otherFrames: 0,
    seqGaps: 0, seqDuplicates: 0, offsetGaps: 0, offsetDuplicates: 0, minLastSeq: Infinity,
    perTopic: {}, cpuMicros: 0, cpuWallMicros: 0, cpuTotalMicros: 0, reportedAtMicros: 0, latency,
  };
  for (const r of reports) {
    for (const key of SUMMED) total[key] += r[key];
    total.firstError ||= r.firstError;
    total.minLastSeq = Math.min(total.minLastSeq, r.minLastSeq);
    total.cpuWallMicros = Math.max(total.cpuWallMicros, r.cpuWallMicros);
    total.reportedAtMicros = Math.max(total.reportedAtMicros, r.reportedAtMicros);
    for (const [code, n] of Object.entries(r.closes)) total.closes[code] = (total.closes[code] ?? 0) + n;
    for (const [topic, t] of Object.entries(r.perTopic)) {
      const into = (total.perTopic[topic] ??= { subscribers: 0, deliveries: 0 });
      into.subscribers += t.subscribers;
      into.deliveries += t.deliveries;
    }
    latency.merge(r.latency);
  }
  if (total.minLastSeq === Infinity) total.minLastSeq = -1;
  return total;
}

const SUMMED = [
  'subscribers', 'live', 'connectFailures', 'deliveries', 'bytes', 'windowDeliveries', 'windowBytes',
  'otherFrames', 'seqGaps', 'seqDuplicates', 'offsetGaps', 'offsetDuplicates', 'cpuMicros', 'cpuTotalMicros',
] as const;
