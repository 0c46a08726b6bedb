import type { FanoutReport, ServerTierResult, TierResult } from './fanout.js';

/** One row per tier and server: the median run's rates, with gaps and losses summed over all runs. */
const COLUMNS = [
  'subscribers', 'server', 'published/s', 'deliveries/s', 'MB/s', 'B/msg', 'gaps s/o', 'dups s/o', 'missing',
  'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'client CPU', 'server CPU', 'server RSS', 'server drops', 'ratio',
] as const;

export function formatTable(report: FanoutReport): string {
  const rows = tableRows(report);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [header(report), '', line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ...footnotes(report)].join('\n');
}

export function formatMarkdown(report: FanoutReport): string {
  const rows = tableRows(report);
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const align = COLUMNS.map((_, i) => (i < 2 ? '---' : '---:'));
  return [header(report), '', line(COLUMNS), line(align), ...rows.map(line), ...footnotes(report)].join('\n');
}

function header(report: FanoutReport): string {
  const m = report.machine;
  const o = report.options;
  return (
    `fan-out: ${o.runs} run(s) per tier (median shown), ${o.durationSeconds} s measured after ${o.warmupSeconds} s warm-up, ` +
    `~${o.messageBytes}-byte messages, publish window ${o.publishWindow}, ${o.clientProcs} load process(es)\n` +
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GiB, node ${m.node}, ${m.platform}; ` +
    `open-file limit ${report.fdLimit.soft} (${report.fdLimit.note}); client and server share this machine`
  );
}

function tableRows(report: FanoutReport): string[][] {
  const rows: string[][] = [];
  for (const tier of report.tiers) {
    for (const [kind, result] of Object.entries(tier.byServer)) rows.push(row(tier, kind, result));
  }
  return rows;
}

function row(tier: TierResult, kind: string, result: ServerTierResult): string[] {
  const m = result.median;
  if (m === null) return [String(tier.tier), kind, `failed: ${result.errors[0] ?? 'no runs'}`, ...COLUMNS.slice(3).map(() => '')];
  const t = result.totals;
  const drops = m.serverCounters?.['wse_slow_consumer_drops_total'];
  return [
    String(tier.tier),
    kind,
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
    m.serverCpuPercent === null ? 'n/a' : `${m.serverCpuPercent.toFixed(0)}%`,
    m.serverRssMb === null ? 'n/a' : `${m.serverRssMb.toFixed(0)} MB`,
    drops === undefined ? 'n/a' : String(drops),
    kind === 'baseline' || tier.ratio === null ? '' : tier.ratio.toFixed(2),
  ];
}

function footnotes(report: FanoutReport): string[] {
  const notes: string[] = [
    '',
    'gaps/dups: publisher sequence / server offset, summed over all runs; missing: accepted publications × subscribers − deliveries.',
    'CPU: percent of one core over the window (client: all load processes); ratio: deliveries/s over the baseline\'s.',
  ];
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

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function ms(micros: number): string {
  return (micros / 1000).toFixed(micros < 10_000 ? 2 : 1);
}
