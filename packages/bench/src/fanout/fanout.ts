import { cpus, totalmem } from 'node:os';
import { benchToken } from '../auth/bench-token.js';
import { BenchError } from '../errors.js';
import { LoadClient } from '../load/load-client.js';
import { raiseFdLimit, type FdLimit } from '../sys/fd-limit.js';
import { remoteTarget, spawnTarget, type BenchTarget } from './target.js';
import { runTier, type TierRunResult } from './tier-run.js';

export type ServerKind = 'wse' | 'baseline';

export interface FanoutOptions {
  /** The server measured; with `compare`, the baseline runs beside it tier by tier. */
  server: ServerKind;
  compare: boolean;
  spawn: boolean;
  /** Without `spawn`: the running server's client endpoints, metrics endpoints, baseline endpoints. */
  targets: string[];
  metrics: string[];
  baselineTargets: string[];
  tiers: number[];
  runs: number;
  durationSeconds: number;
  warmupSeconds: number;
  clientProcs: number;
  batch: number;
  publishWindow: number;
  messageBytes: number;
  workers: number;
  jwtSecret: string;
  wseBin?: string;
  wseArgs: string[];
  onProgress?: (line: string) => void;
}

export interface ServerTierResult {
  /** The run with the median deliveries/s. */
  median: TierRunResult | null;
  runs: TierRunResult[];
  /** Gaps, duplicates and losses summed over every run: one in any run matters. */
  totals: { seqGaps: number; seqDuplicates: number; offsetGaps: number; offsetDuplicates: number; missing: number; refused: number };
  errors: string[];
}

export interface TierResult {
  tier: number;
  byServer: Partial<Record<ServerKind, ServerTierResult>>;
  /** Median deliveries/s of the measured server over the baseline's, with `compare`. */
  ratio: number | null;
}

export interface FanoutReport {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  fdLimit: FdLimit;
  options: Omit<FanoutOptions, 'onProgress' | 'jwtSecret'>;
  tiers: TierResult[];
}

const READY_TIMEOUT_MS = 30_000;

export async function runFanout(options: FanoutOptions): Promise<FanoutReport> {
  const progress = options.onProgress ?? (() => undefined);
  const fdLimit = raiseFdLimit();
  progress(`open-file limit: ${fdLimit.soft} (${fdLimit.note})`);
  const kinds: ServerKind[] = options.compare && options.server !== 'baseline' ? [options.server, 'baseline'] : [options.server];
  const targets = new Map<ServerKind, BenchTarget>();
  const client = LoadClient.start(options.clientProcs);
  const token = benchToken(options.jwtSecret);
  const { onProgress: _ignored, jwtSecret: _secret, ...reported } = options;
  const report: FanoutReport = { startedAt: new Date().toISOString(), machine: machine(), fdLimit, options: reported, tiers: [] };
  try {
    for (const kind of kinds) targets.set(kind, await openTarget(kind, options));
    for (const tier of options.tiers) {
      const result: TierResult = { tier, byServer: {}, ratio: null };
      for (const kind of kinds) result.byServer[kind] = { median: null, runs: [], totals: emptyTotals(), errors: [] };
      // Runs alternate between the servers so drift on the machine hits both alike.
      for (let run = 0; run < options.runs; run++) {
        for (const kind of kinds) {
          const into = result.byServer[kind]!;
          try {
            const outcome = await runTier(targets.get(kind)!, client, tierOptions(options, tier, token));
            into.runs.push(outcome);
            progress(`${kind} ${tier} subscribers run ${run + 1}/${options.runs}: ${Math.round(outcome.deliveriesPerSec).toLocaleString('en-US')} deliveries/s, gaps ${outcome.seqGaps}/${outcome.offsetGaps}, missing ${outcome.missing}`);
          } catch (error) {
            into.errors.push(error instanceof Error ? error.message : String(error));
            progress(`${kind} ${tier} subscribers run ${run + 1}/${options.runs}: failed: ${into.errors.at(-1)}`);
          }
        }
      }
      for (const kind of kinds) finishServerTier(result.byServer[kind]!);
      result.ratio = ratioOf(result);
      report.tiers.push(result);
    }
    return report;
  } finally {
    client.stop();
    for (const target of targets.values()) await target.stop();
  }
}

async function openTarget(kind: ServerKind, options: FanoutOptions): Promise<BenchTarget> {
  if (options.spawn) {
    return spawnTarget(kind, {
      workers: options.workers,
      jwtSecret: options.jwtSecret,
      ...(options.wseBin === undefined ? {} : { wseBin: options.wseBin }),
      wseArgs: options.wseArgs,
      readyTimeoutMs: READY_TIMEOUT_MS,
    });
  }
  const isMain = kind === options.server;
  const endpoints = isMain ? options.targets : options.baselineTargets;
  if (endpoints.length === 0) {
    throw new BenchError('WSE_BENCH_ERR_USAGE', isMain ? 'give --spawn or --targets' : '--compare without --spawn needs --baseline-targets');
  }
  return remoteTarget(kind, endpoints, isMain ? options.metrics : []);
}

function tierOptions(options: FanoutOptions, tier: number, token: string) {
  return {
    subscribers: tier,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    batch: options.batch,
    publishWindow: options.publishWindow,
    messageBytes: options.messageBytes,
    token,
  };
}

function finishServerTier(result: ServerTierResult): void {
  const sorted = [...result.runs].sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec);
  result.median = sorted[Math.floor((sorted.length - 1) / 2)] ?? null;
  for (const run of result.runs) {
    result.totals.seqGaps += run.seqGaps;
    result.totals.seqDuplicates += run.seqDuplicates;
    result.totals.offsetGaps += run.offsetGaps;
    result.totals.offsetDuplicates += run.offsetDuplicates;
    result.totals.missing += run.missing;
    result.totals.refused += run.refusedPublishes;
  }
}

function ratioOf(result: TierResult): number | null {
  const measured = Object.entries(result.byServer).find(([kind]) => kind !== 'baseline')?.[1]?.median;
  const baseline = result.byServer.baseline?.median;
  if (!measured || !baseline || baseline.deliveriesPerSec === 0) return null;
  return measured.deliveriesPerSec / baseline.deliveriesPerSec;
}

function emptyTotals(): ServerTierResult['totals'] {
  return { seqGaps: 0, seqDuplicates: 0, offsetGaps: 0, offsetDuplicates: 0, missing: 0, refused: 0 };
}

function machine(): FanoutReport['machine'] {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}
