import { runTier, type TierRunResult } from '../fanout/tier-run.js';
import { LoadClient } from '../load/load-client.js';
import { count, ms } from '../report/grid.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface SizeMatrixOptions {
  sizes: number[];
  tiers: number[];
  seconds: number;
  warmupSeconds: number;
  clientProcs: number;
}

/** Fan-out at every payload size × subscriber count: one run each, the same path as `fanout`. */
export async function sizeMatrix(ctx: SuiteContext, options: SizeMatrixOptions): Promise<Section> {
  const client = LoadClient.start(options.clientProcs);
  const rows: string[][] = [];
  const data: Array<{ size: number; tier: number; run: TierRunResult | null; error: string }> = [];
  try {
    for (const size of options.sizes) {
      for (const tier of options.tiers) {
        try {
          const run = await runTier(ctx.target, client, {
            subscribers: tier, durationSeconds: options.seconds, warmupSeconds: options.warmupSeconds, batch: 500,
            publishWindow: 16, messageBytes: size, split: [], token: ctx.token, topicOwner: 'any',
          });
          data.push({ size, tier, run, error: '' });
          rows.push([String(size), String(tier), count(run.publishedPerSec), count(run.deliveriesPerSec), run.mbPerSec.toFixed(1),
            ms(run.latency.p50), ms(run.latency.p99), `${run.seqGaps}/${run.offsetGaps}`, String(run.missing)]);
          ctx.progress(`size-matrix ${size} B × ${tier}: ${count(run.deliveriesPerSec)} deliveries/s`);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          data.push({ size, tier, run: null, error: message });
          rows.push([String(size), String(tier), `failed: ${message.split('\n')[0]}`, '', '', '', '', '', '']);
        }
      }
    }
  } finally {
    client.stop();
  }
  return {
    title: 'size-matrix',
    setup: `${targetDescription(ctx.target)}; one publisher, ${options.seconds} s after ${options.warmupSeconds} s per cell; latency publish to receipt, ms`,
    columns: ['bytes', 'subscribers', 'published/s', 'deliveries/s', 'MB/s', 'p50', 'p99', 'gaps s/o', 'missing'],
    rows,
    notes: [],
    failed: data.some((d) => d.run === null || d.run.seqGaps + d.run.offsetGaps + d.run.missing > 0),
    data,
  };
}

