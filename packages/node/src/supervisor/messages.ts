import type { MemberInfoRow } from '@wse/mesh';

/** IPC between the supervisor and its workers (node:cluster). Every message has a `wse` tag. */
export type ToWorker =
  | { wse: 'drain' }
  | { wse: 'health'; id: number }
  /**
   * Rolling restart: leave the mesh (DRAIN: topics handed over, no new routing) and free the mesh
   * port for the replacement; clients stay until `drain`.
   */
  | { wse: 'step-aside' };

export type FromWorker =
  | { wse: 'ready'; port: number }
  | { wse: 'health'; id: number; report: WorkerHealth }
  | { wse: 'stepped-aside' }
  | { wse: 'drained' };

/** One worker's part of the node's /health. */
export interface WorkerHealth {
  index: number;
  pid: number;
  draining: boolean;
  connections: number;
  subscriptions: number;
  recovery: { topics: number; bytes: number };
  queues: { publish_jobs: number; publish_bytes: number; fanout_backlog_bytes: number; paced: boolean };
  drops: { slow_consumers: number; rate_limited: number; inbound: number; publish_rejected: number };
  /** null for a lone worker that is not a mesh member. */
  mesh: { instance_id: string; address: string; owned_topics: number; members: MemberInfoRow[] } | null;
}

/** Environment variables the supervisor hands a worker. */
export const WORKER_CONFIG_ENV = 'WSE_WORKER_CONFIG';
export const WORKER_INDEX_ENV = 'WSE_WORKER_INDEX';

export function isFromWorker(message: unknown): message is FromWorker {
  return typeof message === 'object' && message !== null && typeof (message as { wse?: unknown }).wse === 'string';
}
