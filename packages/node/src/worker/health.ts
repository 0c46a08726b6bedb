import type { MeshMember } from '@wse/mesh';
import type { Counter } from 'prom-client';
import type { WorkerHealth } from '../supervisor/messages.js';
import type { WorkerServer } from './server.js';

/** This worker's part of /health. */
export async function workerHealth(server: WorkerServer, index: number): Promise<WorkerHealth> {
  const { metrics, store, intake } = server.ctx;
  const counts = metrics.counts;
  const recovery = store.stats();
  return {
    index,
    pid: process.pid,
    draining: server.isDraining,
    connections: counts.connectionsOpen,
    subscriptions: counts.subscriptions,
    recovery: { topics: recovery.topics, bytes: recovery.bytes },
    queues: { publish_jobs: intake.queued, publish_bytes: intake.bytes, fanout_backlog_bytes: counts.fanoutBacklogBytes, paced: counts.paced === 1 },
    drops: {
      slow_consumers: await total(metrics.slowConsumerDrops),
      rate_limited: await total(metrics.rateLimited),
      inbound: await total(metrics.inboundDropped),
      publish_rejected: await total(metrics.publishRejected),
    },
    mesh: server.ctx.member === null ? null : meshHealth(server.ctx.member),
  };
}

function meshHealth(member: MeshMember): NonNullable<WorkerHealth['mesh']> {
  return {
    instance_id: member.instanceId,
    address: member.address,
    owned_topics: member.stats().ownedTopics,
    members: member.members(),
  };
}

async function total(counter: Counter<string>): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}
