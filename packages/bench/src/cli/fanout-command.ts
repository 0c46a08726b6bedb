import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { CommandModule } from 'yargs';
import { BenchError } from '../errors.js';
import { runFanout, type CompareKind, type ServerKind } from '../fanout/fanout.js';
import { parseSplit } from '../fanout/split.js';
import { fanoutFailed, formatMarkdown, formatTable } from '../fanout/report.js';
import type { TopicOwnerChoice } from '../fanout/topic-owner.js';
import type { LoadClientKind } from '../load/load-client.js';

interface Args {
  server: string;
  spawn: boolean;
  targets?: string;
  metrics?: string;
  'api-key'?: string;
  'baseline-targets'?: string;
  compare?: string;
  nodes: number;
  split: string;
  tiers: string;
  duration: number;
  warmup: number;
  runs: number;
  'client-procs': number;
  client: string;
  'client-threads': number;
  batch: number;
  window: number;
  'message-bytes': number;
  'topic-owner': string;
  workers: number;
  'jwt-secret': string;
  'wse-bin'?: string;
  'wse-args': string;
  json?: string;
  markdown: boolean;
}

/** PROTOCOL.md §2: the default secret of the original's load client. */
const DEFAULT_SECRET = 'bench-secret-key-for-testing-only';

export const fanoutCommand: CommandModule<object, Args> = {
  command: 'fanout',
  describe: 'N subscribers on one topic, one publisher as fast as the server accepts; per tier rates, gaps, latency',
  builder: (y) =>
    y
      .option('server', { choices: ['wse', 'baseline'], default: 'wse', describe: 'server measured' })
      .option('spawn', { type: 'boolean', default: false, describe: 'start the server(s) here on loopback ports' })
      .option('nodes', { type: 'number', default: 1, describe: 'WSE nodes spawned, meshed on loopback (publisher on the first)' })
      .option('split', { type: 'string', default: '', describe: 'subscribers per node in this proportion, e.g. 50/50 (default: even)' })
      .option('targets', { type: 'string', describe: 'running nodes\' client endpoints host:port,… (subscribers split over them; publisher on the first)' })
      .option('metrics', { type: 'string', describe: 'their metrics endpoints host:port,…, same order (server-side counters)' })
      .option('api-key', { type: 'string', describe: "the running nodes' HTTP API key: runs report where their topic was sequenced; needed for --topic-owner" })
      .option('baseline-targets', { type: 'string', describe: 'a running baseline-server for --compare baseline without --spawn' })
      .option('compare', {
        choices: ['baseline', 'single'],
        describe: 'also run, tier by tier, the bare-uWS baseline or the same total on one node; print the ratio',
      })
      .option('tiers', { type: 'string', default: '100,1000,10000', describe: 'subscriber counts' })
      .option('duration', { type: 'number', default: 10, describe: 'seconds measured per run' })
      .option('warmup', { type: 'number', default: 2, describe: 'seconds published before measuring' })
      .option('runs', { type: 'number', default: 3, describe: 'runs per tier and server; the median is reported' })
      .option('client-procs', { type: 'number', default: Math.max(1, Math.floor(cpus().length / 2)), describe: 'load processes' })
      .option('client', { choices: ['node', 'native'], default: 'node', describe: 'load process kind: load-process.js, or the C client (dist/native/wse-load)' })
      .option('client-threads', { type: 'number', default: 1, describe: 'worker threads per native load process' })
      .option('batch', { type: 'number', default: 500, describe: 'subscribers connected at once per load process' })
      .option('window', { type: 'number', default: 16, describe: 'publications in flight before waiting for acks (README: past 32 bare uWS collapses)' })
      .option('message-bytes', { type: 'number', default: 100, describe: 'size of each publication subscribers receive' })
      .option('topic-owner', {
        choices: ['any', 'publisher', 'other'],
        default: 'any',
        describe: "clusters: draw each run's topic until its owner is on the publisher's node, or on another (any: as drawn)",
      })
      .option('workers', { type: 'number', default: 1, describe: 'WSE workers per spawned node' })
      .option('jwt-secret', { type: 'string', default: DEFAULT_SECRET })
      .option('wse-bin', { type: 'string', describe: 'WSE CLI to spawn (default: this repository\'s)' })
      .option('wse-args', { type: 'string', default: '', describe: 'extra arguments for the spawned `wse start`, space-separated: --wse-args="--flag value"' })
      .option('json', { type: 'string', describe: 'also write the full report (every run) to this file' })
      .option('markdown', { type: 'boolean', default: false, describe: 'print the table as Markdown' }),
  handler: async (args) => {
    const report = await runFanout({
      server: args.server as ServerKind,
      compare: (args.compare ?? null) as CompareKind | null,
      nodes: positiveInteger(String(args.nodes)),
      split: parseSplit(args.split, args.spawn ? (args.server === 'baseline' ? 1 : args.nodes) : list(args.targets).length),
      spawn: args.spawn,
      targets: list(args.targets),
      metrics: list(args.metrics),
      ...(args['api-key'] === undefined ? {} : { apiKey: args['api-key'] }),
      baselineTargets: list(args['baseline-targets']),
      tiers: list(args.tiers).map(positiveInteger),
      runs: args.runs,
      durationSeconds: args.duration,
      warmupSeconds: args.warmup,
      clientProcs: args['client-procs'],
      client: args.client as LoadClientKind,
      clientThreads: args['client-threads'],
      batch: args.batch,
      publishWindow: args.window,
      messageBytes: args['message-bytes'],
      topicOwner: args['topic-owner'] as TopicOwnerChoice,
      workers: args.workers,
      jwtSecret: args['jwt-secret'],
      ...(args['wse-bin'] === undefined ? {} : { wseBin: args['wse-bin'] }),
      wseArgs: args['wse-args'].split(' ').filter((a) => a !== ''),
      onProgress: (line) => console.error(line),
    });
    console.log(args.markdown ? formatMarkdown(report) : formatTable(report));
    if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n');
    process.exitCode = fanoutFailed(report) ? 2 : 0;
  },
};

export function list(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new BenchError('WSE_BENCH_ERR_USAGE', `not a subscriber count: "${text}"`);
  return value;
}
