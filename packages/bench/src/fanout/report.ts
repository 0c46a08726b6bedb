import type { FanoutReport, ServerTierResult, TierResult } from './fanout.js';
import { count, formatGrid, ms } from '../report/grid.js';
import type { TierRunResult } from './tier-run.js';

/** One row per tier and server: the median run's rates, with gaps and losses summed over all runs. */
const COLUMNS = [
  'subscribers', 'server', 'published/s', 'deliveries/s', 'MB/s', 'B/msg', 'gaps s/o', 'dups s/o', 'missing',
  'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'client CPU', 'server CPU', 'server RSS', 'server drops', 'server sent − counted', 'ratio',
] as const;

export function formatTable(report: FanoutReport): string {
  return [header(report), '', formatGrid(COLUMNS, tableRows(report), false, 2), ...footnotes(report)].join('\n');
}

export function formatMarkdown(report: FanoutReport): string {
  return [header(report), '', formatGrid(COLUMNS, tableRows(report), true, 2), ...footnotes(report)].join('\n');
}

function header(report: FanoutReport): string {
  const m = report.machine;
  const o = report.options;
  return (
    `fan-out: ${o.runs} run(s) per tier (median shown), ${o.durationSeconds} s measured after ${o.warmupSeconds} s warm-up, ` +
    `~${o.messageBytes}-byte messages, publish window ${o.publishWindow}, ${loadProcesses(o)}` +
    (o.server === 'wse' && o.spawn ? `, ${o.workers} worker(s) per node` : '') + '\n' +
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GiB, node ${m.node}, ${m.platform}; ` +
    `open-file limit ${report.fdLimit.soft} (${report.fdLimit.note}); client and server share this machine`
  );
}

function loadProcesses(o: FanoutReport['options']): string {
  return o.client === 'native'
    ? `${o.clientProcs} native load process(es) × ${o.clientThreads ?? 1} thread(s)`
    : `${o.clientProcs} node load process(es)`;
}

function tableRows(report: FanoutReport): string[][] {
  const rows: string[][] = [];
  for (const tier of report.tiers) {
    for (const [i, [label, result]] of Object.entries(tier.byServer).entries()) rows.push(row(tier, label, result, i === 0));
  }
  return rows;
}

function row(tier: TierResult, label: string, result: ServerTierResult, measured: boolean): string[] {
  const m = result.median;
  if (m === null) return [String(tier.tier), label, `failed: ${result.errors[0] ?? 'no runs'}`, ...COLUMNS.slice(3).map(() => '')];
  const t = result.totals;
  // Per node, `+`-joined, when the target is a cluster: who was saturated matters more than the sum.
  const perNode = (pick: (n: TierRunResult['nodes'][number]) => string): string => m.nodes.map(pick).join('+');
  const difference = m.countCheck.difference;
  return [
    String(tier.tier),
    label,
    count(m.publishedPerSec),
    count(m.deliveriesPerSec),
    m.mbPerSec.toFixed(1),
    m.avgMessageBytes.toFixed(0),
    `${t.seqGaps}/${t.offsetGaps}`,
    `${t.seqDuplicates}/${t.offsetDuplicates}`,
    String(t.missing),
    ms(m.latency.p50),
    ms(m.latency.p90),
    ms(m.latency.p99),
    ms(m.latency.p999),
    ms(m.latency.max),
    `${m.clientCpuPercent.toFixed(0)}%`,
    perNode((n) => (n.cpuPercent === null ? 'n/a' : `${n.cpuPercent.toFixed(0)}%`)),
    perNode((n) => (n.rssMb === null ? 'n/a' : n.rssMb.toFixed(0))) + ' MB',
    perNode((n) => String(n.counters?.['wse_slow_consumer_drops_total'] ?? 'n/a')),
    difference === null ? 'n/a' : difference === 0 ? '0' : `${difference > 0 ? '+' : ''}${difference}`,
    !measured || tier.ratio === null ? '' : tier.ratio.toFixed(2),
  ];
}

function footnotes(report: FanoutReport): string[] {
  const notes: string[] = [
    '',
    'gaps/dups: publisher sequence / server offset, summed over all runs; missing: accepted publications × subscribers − deliveries.',
    'CPU: percent of one core over the window (client: all load processes); server CPU, RSS and drops per node, `+`-joined.',
    'server sent − counted: the nodes\' wse_messages_sent_total change over the run minus the deliveries the client counted (median run).',
  ];
  if (report.ratioOf !== null) notes.push(`ratio: median deliveries/s of ${report.ratioOf}.`);
  notes.push(...topicOwners(report));
  for (const tier of report.tiers) {
    for (const [kind, result] of Object.entries(tier.byServer)) {
      for (const error of result.errors) notes.push(`${kind} ${tier.tier}: ${error.split('\n')[0]}`);
      for (const run of result.runs) {
        if (run.refusedPublishes > 0) notes.push(`${kind} ${tier.tier}: ${run.refusedPublishes} publications refused, first: ${run.firstRefusal}`);
        const closes = Object.entries(run.closes);
        if (closes.length > 0) notes.push(`${kind} ${tier.tier}: subscribers closed by the server: ${closes.map(([c, n]) => `${n}×${c}`).join(', ')}`);
      }
    }
  }
  return notes;
}

/** Clusters: the node that sequenced each run's topic, in run order (the publisher is on the first). */
function topicOwners(report: FanoutReport): string[] {
  const lines: string[] = [];
  for (const tier of report.tiers) {
    for (const [kind, result] of Object.entries(tier.byServer)) {
      const owners = result.runs.map((run) => run.topicOwner);
      if (owners.some((owner) => owner !== null)) lines.push(`${kind} ${tier.tier}: topic owner per run ${owners.map((o) => o ?? '?').join(' ')}`);
    }
  }
  return lines.length === 0 ? [] : ['topic owner: the node whose worker sequenced the run\'s topic; publishes enter on the first node.', ...lines];
}

/**
 * A run failed, saw a gap, a duplicate or a missing delivery, or the servers' count of deliveries
 * differs from the client's: what makes the command exit 2.
 */
export function fanoutFailed(report: FanoutReport): boolean {
  return report.tiers.some((tier) =>
    Object.values(tier.byServer).some((r) => {
      const t = r.totals;
      const miscounted = r.runs.some((run) => run.countCheck.difference !== null && run.countCheck.difference !== 0);
      return r.errors.length > 0 || r.runs.length === 0 || miscounted || t.seqGaps + t.seqDuplicates + t.offsetGaps + t.offsetDuplicates + t.missing > 0;
    }),
  );
}
