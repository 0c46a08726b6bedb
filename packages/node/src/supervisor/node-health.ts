import type { HealthReport } from '../metrics/http-server.js';
import { clusterView } from './cluster-view.js';
import type { WorkerHealth } from './messages.js';

export interface NodeFacts {
  nodeId: string;
  startedAtMs: number;
  draining: boolean;
  workersConfigured: number;
  /** Worker slots that stopped restarting (crash loop). */
  crashLooping: number[];
  recoveryBudgetBytes: number;
}

/**
 * The node's /health from its workers' reports. "degraded" (a worker missing or crash-looping)
 * still serves, so probes get 200; "draining" and "down" (no worker up) get 503.
 */
export function nodeHealth(facts: NodeFacts, workers: WorkerHealth[]): HealthReport {
  const sum = (pick: (w: WorkerHealth) => number): number => workers.reduce((acc, w) => acc + pick(w), 0);
  const status = facts.draining || workers.some((w) => w.draining)
    ? 'draining'
    : workers.length === 0
      ? 'down'
      : workers.length < facts.workersConfigured || facts.crashLooping.length > 0
        ? 'degraded'
        : 'ok';
  return {
    status,
    node_id: facts.nodeId,
    uptime_s: Math.floor((Date.now() - facts.startedAtMs) / 1000),
    workers_configured: facts.workersConfigured,
    workers_up: workers.length,
    crash_looping: facts.crashLooping,
    workers,
    connections: sum((w) => w.connections),
    recovery: { topics: sum((w) => w.recovery.topics), bytes: sum((w) => w.recovery.bytes), budget_bytes_per_worker: facts.recoveryBudgetBytes },
    queues: {
      publish_jobs: sum((w) => w.queues.publish_jobs),
      publish_bytes: sum((w) => w.queues.publish_bytes),
      fanout_backlog_bytes: sum((w) => w.queues.fanout_backlog_bytes),
      paced: workers.some((w) => w.queues.paced),
    },
    drops: {
      slow_consumers: sum((w) => w.drops.slow_consumers),
      rate_limited: sum((w) => w.drops.rate_limited),
      inbound: sum((w) => w.drops.inbound),
      publish_rejected: sum((w) => w.drops.publish_rejected),
    },
    cluster: clusterView(facts.nodeId, workers),
  };
}
