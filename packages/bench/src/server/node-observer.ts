import type { BenchNode } from '../fanout/target.js';
import { nowMicros } from '../sys/clock.js';
import { sampleProcessTrees } from '../sys/process-usage.js';
import { scrapeCounters } from './metrics-scrape.js';

/** What one node did over a measurement: CPU in percent of one core, RSS at the end. */
export interface NodeUsage {
  cpuPercent: number;
  rssMb: number | null;
}

/** prom-client's process metrics, for nodes not spawned here (when the server exposes them). */
const PROCESS_METRICS = ['process_cpu_seconds_total', 'process_resident_memory_bytes'] as const;

/** Counters of every node now; null for a node without metrics or one that did not answer. */
export async function scrapeNodes(nodes: readonly BenchNode[], names: readonly string[]): Promise<Array<Record<string, number> | null>> {
  return Promise.all(nodes.map((n) => (n.metricsUrl === null ? null : scrapeCounters(n.metricsUrl, names))));
}

export function counterDeltas(
  before: Array<Record<string, number> | null>,
  after: Array<Record<string, number> | null>,
): Array<Record<string, number> | null> {
  return after.map((a, i) => {
    const b = before[i];
    if (a === null || b === null || b === undefined) return null;
    return Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
  });
}

/** Sum of one counter over nodes; null when any node lacks it. */
export function sumCounter(perNode: Array<Record<string, number> | null>, name: string): number | null {
  let total = 0;
  for (const counters of perNode) {
    const value = counters?.[name];
    if (value === undefined) return null;
    total += value;
  }
  return perNode.length === 0 ? null : total;
}

/**
 * CPU of each node between wall times `startUs` and `endUs`, RSS at `endUs`: from /proc for nodes
 * spawned here (the whole process tree), else from the node's process metrics if it has them.
 */
export async function usageBetween(nodes: readonly BenchNode[], startUs: number, endUs: number): Promise<Array<NodeUsage | null>> {
  await sleepUntil(startUs);
  const first = await sampleNodes(nodes);
  await sleepUntil(endUs);
  const last = await sampleNodes(nodes);
  const wallUs = Math.max(1, endUs - startUs);
  return nodes.map((_, i) => {
    const a = first[i], b = last[i];
    if (!a || !b) return null;
    return { cpuPercent: ((b.cpuMicros - a.cpuMicros) / wallUs) * 100, rssMb: Number.isFinite(b.rssBytes) ? b.rssBytes / 1024 / 1024 : null };
  });
}

async function sampleNodes(nodes: readonly BenchNode[]): Promise<Array<{ cpuMicros: number; rssBytes: number } | null>> {
  const local = sampleProcessTrees(nodes.map((n) => n.pid ?? -1));
  return Promise.all(
    nodes.map(async (node, i) => {
      if (node.pid !== null) return local[i] ?? null;
      if (node.metricsUrl === null) return null;
      const m = await scrapeCounters(node.metricsUrl, PROCESS_METRICS);
      const cpu = m?.['process_cpu_seconds_total'];
      return cpu === undefined ? null : { cpuMicros: cpu * 1e6, rssBytes: m!['process_resident_memory_bytes'] ?? NaN };
    }),
  );
}

export function sleepUntil(us: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, (us - nowMicros()) / 1000)));
}
