import { writeFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { benchToken } from '../auth/bench-token.js';
import { remoteTarget, spawnWseCluster, wseLabel, type BenchTarget } from '../fanout/target.js';
import { formatSection, type Section, type SuiteContext } from '../suite/section.js';
import { raiseFdLimit } from '../sys/fd-limit.js';
import { list } from './fanout-command.js';

/** PROTOCOL.md §2: the default secret of the original's load client. */
export const DEFAULT_SECRET = 'bench-secret-key-for-testing-only';

export interface TargetArgs {
  nodes: number;
  workers: number;
  targets?: string;
  metrics?: string;
  'jwt-secret': string;
  'wse-bin'?: string;
  'wse-args': string;
  json?: string;
  markdown: boolean;
}

/** Where a suite test runs: WSE nodes spawned here (the default) or `--targets` already running. */
export function withTargetOptions<T>(y: Argv<T>): Argv<T & TargetArgs> {
  return y
    .option('nodes', { type: 'number', default: 1, describe: 'WSE nodes spawned here, meshed on loopback (without --targets)' })
    .option('workers', { type: 'number', default: 1, describe: 'workers per spawned node' })
    .option('targets', { type: 'string', describe: 'running nodes\' client endpoints host:port,… instead of spawning' })
    .option('metrics', { type: 'string', describe: 'their metrics endpoints host:port,…, same order' })
    .option('jwt-secret', { type: 'string', default: DEFAULT_SECRET })
    .option('wse-bin', { type: 'string', describe: 'WSE CLI to spawn (default: this repository\'s)' })
    .option('wse-args', { type: 'string', default: '', describe: 'extra `wse start` arguments, space-separated: --wse-args="--flag value"' })
    .option('json', { type: 'string', describe: 'also write everything measured to this file' })
    .option('markdown', { type: 'boolean', default: false, describe: 'print Markdown' }) as unknown as Argv<T & TargetArgs>;
}

export async function openTarget(args: TargetArgs): Promise<BenchTarget> {
  const targets = list(args.targets);
  if (targets.length > 0) return remoteTarget(wseLabel(targets.length), targets, list(args.metrics));
  return spawnWseCluster({
    nodes: args.nodes,
    workers: args.workers,
    jwtSecret: args['jwt-secret'],
    ...(args['wse-bin'] === undefined ? {} : { wseBin: args['wse-bin'] }),
    wseArgs: args['wse-args'].split(' ').filter((a) => a !== ''),
    readyTimeoutMs: 30_000,
  });
}

/** Opens the target, runs the tests, prints them; exit status 2 when one saw what it exists to catch. */
export async function runSections(args: TargetArgs, tests: Array<(ctx: SuiteContext) => Promise<Section>>): Promise<Section[]> {
  const fd = raiseFdLimit();
  console.error(`open-file limit: ${fd.soft} (${fd.note})`);
  const target = await openTarget(args);
  const ctx: SuiteContext = { target, token: benchToken(args['jwt-secret']), progress: (line) => console.error(line) };
  const sections: Section[] = [];
  try {
    for (const test of tests) {
      const section = await test(ctx);
      sections.push(section);
      console.log(formatSection(section, args.markdown) + '\n');
    }
  } finally {
    await target.stop();
  }
  if (args.json !== undefined) writeFileSync(args.json, JSON.stringify(sections, null, 2) + '\n');
  if (sections.some((s) => s.failed)) process.exitCode = 2;
  return sections;
}
