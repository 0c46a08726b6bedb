import { writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { runFanout, type FanoutReport } from '../fanout/fanout.js';
import { fanoutFailed, formatMarkdown } from '../fanout/report.js';
import { connectionLimit } from '../suite/connection-limit.js';
import { connectionStorm } from '../suite/connection-storm.js';
import { pingLatency } from '../suite/ping-latency.js';
import { formatSection, type Section } from '../suite/section.js';
import { sizeMatrix } from '../suite/size-matrix.js';
import { sustainedHold } from '../suite/sustained-hold.js';
import { throughput } from '../suite/throughput.js';
import { list, positiveInteger } from './fanout-command.js';
import { runSections, withTargetOptions, type TargetArgs } from './target-options.js';

interface Args extends TargetArgs {
  out: string;
  tiers: string;
  duration: number;
  'client-procs': number;
}

const TIMEOUT_MS = 60_000;

/** The whole suite with small, bounded settings, into one Markdown report (and `--json`). */
export const allCommand: CommandModule<object, Args> = {
  command: 'all',
  describe: 'run fanout and the whole suite with small settings; write one report',
  builder: (y) => withTargetOptions(y)
    .option('out', { type: 'string', default: 'wse-bench-report.md', describe: 'the Markdown report written' })
    .option('tiers', { type: 'string', default: '100,1000', describe: 'fan-out subscriber counts' })
    .option('duration', { type: 'number', default: 2, describe: 'seconds measured per run or phase' })
    .option('client-procs', { type: 'number', default: 1 }),
  handler: async (args) => {
    const seconds = args.duration;
    const fanout = await runFanout({
      server: 'wse', compare: args.nodes > 1 ? 'single' : 'baseline', nodes: args.nodes, split: [], spawn: list(args.targets).length === 0,
      targets: list(args.targets), metrics: list(args.metrics), baselineTargets: [], tiers: list(args.tiers).map(positiveInteger),
      runs: 1, durationSeconds: seconds, warmupSeconds: 1, clientProcs: args['client-procs'], batch: 500, publishWindow: 16,
      messageBytes: 100, workers: args.workers, jwtSecret: args['jwt-secret'], wseArgs: args['wse-args'].split(' ').filter((a) => a !== ''),
      ...(args['wse-bin'] === undefined ? {} : { wseBin: args['wse-bin'] }), onProgress: (line) => console.error(line),
    });
    console.log(formatMarkdown(fanout) + '\n');
    const sections = await runSections({ ...args, json: undefined }, [
      (ctx) => connectionStorm(ctx, { tiers: [100, 500], concurrency: 200, timeoutMs: TIMEOUT_MS }),
      (ctx) => pingLatency(ctx, { connections: 100, probes: 5, seconds, intervalMs: 10, clientProcs: args['client-procs'], timeoutMs: TIMEOUT_MS }),
      (ctx) => throughput(ctx, { connections: 10, formats: ['json', 'msgpack'], messageBytes: 100, seconds, warmupSeconds: 0.5, timeoutMs: TIMEOUT_MS }),
      (ctx) => sizeMatrix(ctx, { sizes: [128, 1024, 8192], tiers: [10, 100], seconds, warmupSeconds: 0.5, clientProcs: args['client-procs'] }),
      (ctx) => sustainedHold(ctx, { connections: 500, seconds: Math.max(3, seconds), pingIntervalMs: 1000, timeoutMs: TIMEOUT_MS }),
      (ctx) => connectionLimit(ctx, { max: 2000, start: 500, holdSeconds: 1, precision: 100, sourceAddresses: 0, concurrency: 500, timeoutMs: TIMEOUT_MS }),
      (ctx) => throughput(ctx, { connections: 10, formats: ['json', 'msgpack', 'compressed'], messageBytes: 1000, seconds, warmupSeconds: 0.5, timeoutMs: TIMEOUT_MS }, 'format-comparison'),
    ]);
    writeFileSync(args.out, report(fanout, sections));
    if (args.json !== undefined) writeFileSync(args.json, JSON.stringify({ fanout, sections }, null, 2) + '\n');
    console.error(`report written to ${args.out}`);
    if (fanoutFailed(fanout)) process.exitCode = 2;
  },
};

function report(fanout: FanoutReport, sections: Section[]): string {
  return [
    `# wse-bench report (${fanout.startedAt})`, '',
    '### fanout', '', formatMarkdown(fanout), '',
    ...sections.map((s) => formatSection(s, true) + '\n'),
  ].join('\n');
}
