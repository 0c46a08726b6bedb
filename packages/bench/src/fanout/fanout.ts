import { cpus, totalmem } from 'node:os';
import { benchToken } from '../auth/bench-token.js';
import { BenchError } from '../errors.js';
import { LoadClient, type LoadClientKind } from '../load/load-client.js';
import { raiseFdLimit, type FdLimit } from '../sys/fd-limit.js';
import { remoteTarget, spawnBaseline, spawnWseCluster, wseLabel, type BenchTarget } from './target.js';
import { runTier, type TierRunResult } from './tier-run.js';
import type { TopicOwnerChoice } from './topic-owner.js';

export type ServerKind = 'wse' | 'baseline';
/** What runs beside the measured server, tier by tier: the bare transport, or the same WSE on one node. */
export type CompareKind = 'baseline' | 'single';

export interface FanoutOptions {
  /** The server measured; with `compare`, the baseline or a single node runs beside it tier by tier. */
  server: ServerKind;
  compare: CompareKind | null;
  /** WSE nodes spawned (with `spawn`); ignored for targets (one node per target). */
  nodes: number;
  /** Subscribers per node in this proportion, one weight per node; empty: even. */
  split: number[];
  spawn: boolean;
  /** Without `spawn`: the running server's client endpoints, metrics endpoints, baseline endpoints. */
  targets: string[];
  metrics: string[];
  /** The running nodes' HTTP API key (`--targets`): runs then report where their topic was sequenced. */
  apiKey?: string;
  baselineTargets: string[];
  tiers: number[];
  runs: number;
  durationSeconds: number;
  warmupSeconds: number;
  clientProcs: number;
  /** Load process kind (default node: load-process.js; native: dist/native/wse-load). */
  client?: LoadClientKind;
  /** Worker threads per native load process (default 1). */
  clientThreads?: number;
  batch: number;
  publishWindow: number;
  messageBytes: number;
  /** Clusters: which node's worker sequences each run's topic (default any). */
  topicOwner?: TopicOwnerChoice;
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
  /** By target label (`wse (2 nodes)`, `wse (1 node)`, `baseline`); the measured one first. */
  byServer: Record<string, ServerTierResult>;
  /** Median deliveries/s of the measured target over the compared one's (see FanoutReport.ratioOf). */
  ratio: number | null;
}

export interface FanoutReport {
  startedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string };
  fdLimit: FdLimit;
  options: Omit<FanoutOptions, 'onProgress' | 'jwtSecret'>;
  /** `measured / compared` labels of the ratio column; null without `compare`. */
  ratioOf: string | null;
  tiers: TierResult[];
}

/** A target to open and the share of subscribers each of its nodes gets. */
interface Variant {
  label: string;
  split: number[];
  open(): Promise<BenchTarget>;
}

const READY_TIMEOUT_MS = 30_000;

export async function runFanout(options: FanoutOptions): Promise<FanoutReport> {
  const progress = options.onProgress ?? (() => undefined);
  const variants = variantsOf(options);
  const fdLimit = raiseFdLimit();
  progress(`open-file limit: ${fdLimit.soft} (${fdLimit.note})`);
  const targets: BenchTarget[] = [];
  const client = LoadClient.start(options.clientProcs, { client: options.client ?? 'node', threads: options.clientThreads ?? 1 });
  const token = benchToken(options.jwtSecret);
  const { onProgress: _ignored, jwtSecret: _secret, ...reported } = options;
  const ratioOf = variants.length > 1 ? `${variants[0]!.label} / ${variants[1]!.label}` : null;
  const report: FanoutReport = { startedAt: new Date().toISOString(), machine: machine(), fdLimit, options: reported, ratioOf, tiers: [] };
  try {
    for (const variant of variants) {
      targets.push(await variant.open());
      progress(`${variant.label}: ready (${targets.at(-1)!.nodes.map((n) => `${n.name} ${n.endpoint.host}:${n.endpoint.port}`).join(', ')})`);
    }
    for (const tier of options.tiers) report.tiers.push(await runTierAll(variants, targets, client, { ...options, token }, tier, progress));
    return report;
  } finally {
    client.stop();
    for (const target of targets) await target.stop();
  }
}

async function runTierAll(
  variants: Variant[],
  targets: BenchTarget[],
  client: LoadClient,
  options: FanoutOptions & { token: string },
  tier: number,
  progress: (line: string) => void,
): Promise<TierResult> {
  const result: TierResult = { tier, byServer: {}, ratio: null };
  for (const v of variants) result.byServer[v.label] = { median: null, runs: [], totals: emptyTotals(), errors: [] };
  // Runs alternate between the targets so drift on the machine hits both alike.
  for (let run = 0; run < options.runs; run++) {
    for (const [i, variant] of variants.entries()) {
      const into = result.byServer[variant.label]!;
      const tag = `${variant.label} ${tier} subscribers run ${run + 1}/${options.runs}`;
      try {
        const outcome = await runTier(targets[i]!, client, tierOptions(options, tier, variant.split, options.token));
        into.runs.push(outcome);
        const check = outcome.countCheck.serverSent === null ? '' : `, server sent ${outcome.countCheck.serverSent} / client counted ${outcome.countCheck.clientDelivered}`;
        const owner = outcome.topicOwner === null ? '' : `, topic owner ${outcome.topicOwner}`;
        progress(`${tag}: ${Math.round(outcome.deliveriesPerSec).toLocaleString('en-US')} deliveries/s, gaps ${outcome.seqGaps}/${outcome.offsetGaps}, missing ${outcome.missing}${owner}${check}`);
      } catch (error) {
        into.errors.push(error instanceof Error ? error.message : String(error));
        progress(`${tag}: failed: ${into.errors.at(-1)}`);
      }
    }
  }
  for (const v of variants) finishServerTier(result.byServer[v.label]!);
  const [measured, compared] = variants.map((v) => result.byServer[v.label]?.median);
  if (measured && compared && compared.deliveriesPerSec > 0) result.ratio = measured.deliveriesPerSec / compared.deliveriesPerSec;
  return result;
}

function variantsOf(o: FanoutOptions): Variant[] {
  if (!o.spawn && o.targets.length === 0) throw new BenchError('WSE_BENCH_ERR_USAGE', 'give --spawn or --targets');
  const nodes = o.spawn ? (o.server === 'baseline' ? 1 : o.nodes) : o.targets.length;
  if (o.split.length > 0 && o.split.length !== nodes) {
    throw new BenchError('WSE_BENCH_ERR_USAGE', `--split has ${o.split.length} weights for ${nodes} node(s)`);
  }
  const even = (n: number): number[] => Array.from({ length: n }, () => 1);
  const spawnWse = (n: number) => () => spawnWseCluster({ ...spawnOptions(o), nodes: n });
  const measured: Variant =
    o.server === 'baseline'
      ? { label: 'baseline', split: even(nodes), open: o.spawn ? () => spawnBaseline(READY_TIMEOUT_MS) : async () => remoteTarget('baseline', o.targets, []) }
      : { label: wseLabel(nodes), split: o.split.length > 0 ? o.split : even(nodes), open: o.spawn ? spawnWse(nodes) : async () => remoteTarget(wseLabel(nodes), o.targets, o.metrics, o.apiKey ?? null) };
  if (o.compare === null || (o.compare === 'baseline' && o.server === 'baseline')) return [measured];
  if (o.compare === 'baseline') {
    if (!o.spawn && o.baselineTargets.length === 0) throw new BenchError('WSE_BENCH_ERR_USAGE', '--compare baseline without --spawn needs --baseline-targets');
    const open = o.spawn ? () => spawnBaseline(READY_TIMEOUT_MS) : async () => remoteTarget('baseline', o.baselineTargets, []);
    return [measured, { label: 'baseline', split: even(o.spawn ? 1 : o.baselineTargets.length), open }];
  }
  if (o.server !== 'wse' || nodes < 2) throw new BenchError('WSE_BENCH_ERR_USAGE', '--compare single needs a WSE cluster of 2 or more nodes');
  // Against running servers, "one node" is the first target alone: every subscriber and the publisher on it.
  const single = o.spawn ? spawnWse(1) : async () => remoteTarget(wseLabel(1), o.targets.slice(0, 1), o.metrics.slice(0, 1));
  return [measured, { label: wseLabel(1), split: [1], open: single }];
}

function spawnOptions(o: FanoutOptions) {
  return {
    workers: o.workers,
    jwtSecret: o.jwtSecret,
    ...(o.wseBin === undefined ? {} : { wseBin: o.wseBin }),
    wseArgs: o.wseArgs,
    readyTimeoutMs: READY_TIMEOUT_MS,
  };
}

function tierOptions(options: FanoutOptions, tier: number, split: number[], token: string) {
  return {
    subscribers: tier,
    split,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    batch: options.batch,
    publishWindow: options.publishWindow,
    messageBytes: options.messageBytes,
    topicOwner: options.topicOwner ?? 'any',
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
