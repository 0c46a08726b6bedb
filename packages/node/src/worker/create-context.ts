import { flushMeshWrites, type MeshMember } from '@wse/mesh';
import type { TemplatedApp } from 'uWebSockets.js';
import type { WseConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { registerMeshMetrics } from '../metrics/mesh-metrics.js';
import { WorkerMetrics } from '../metrics/worker-metrics.js';
import { PresenceSync } from '../presence/presence-sync.js';
import { PresenceTracker } from '../presence/tracker.js';
import { RecoveryStore } from '../recovery/store.js';
import { SubscriptionIndex } from '../topics/subscriptions.js';
import { BacklogMonitor } from './backlog.js';
import type { WorkerContext } from './context.js';
import { CorkedReplies } from './corked-replies.js';
import { Fanout } from './fanout.js';
import { PublishIntake } from './publish-intake.js';
import { RangeFetcher } from './range-fetcher.js';
import { LocalRouter, MeshRouter, type PublicationRouter } from './router.js';
import type { Session } from './session.js';

const BACKLOG_SAMPLE_MS = 100;
/** Publications waiting while the worker paces publishers, summed over all sources. */
const MAX_QUEUED_PUBLISH_BYTES = 64 * 1024 * 1024;

/**
 * One worker's parts, wired as its data path runs them (DESIGN.md): intake → router (this worker,
 * or the topic's owner in the mesh) → recovery ring and fan-out, with replies and mesh writes sent
 * ahead of each turn's fan-out. The mesh member, if any, gets its hooks here; starting it is the
 * caller's.
 */
export function createWorkerContext(config: WseConfig, app: TemplatedApp, logger: Logger, workerIndex: number, member: MeshMember | null): WorkerContext {
  const store = new RecoveryStore(config.recovery);
  const metrics = new WorkerMetrics({ node: config.nodeId, worker: String(workerIndex) }, () => recoveryStats(store, config));
  const sessions = new Set<Session>();
  const index = new SubscriptionIndex(app, (topic, interested) => {
    if (member === null) return;
    if (interested) return member.addInterest(topic);
    member.removeInterest(topic);
    // MESH.md E.a: without interest the ring stops receiving, so it no longer tells where T is.
    store.detach(topic);
  });
  const backlog = new BacklogMonitor(sessions, metrics, {
    highWaterBytes: config.fanoutBacklogBytes,
    maxOutboundBytes: config.limits.maxOutboundQueueBytes,
    intervalMs: BACKLOG_SAMPLE_MS,
    onPacingChange: (paced) => member?.setIntakePaused(paced),
  });
  const fanout = new Fanout(app, index, metrics, backlog);
  index.beforeChange = () => fanout.flush();
  const replies = new CorkedReplies(metrics);
  // Before a turn's fan-out: publishers' acks, then the mesh links, then every subscriber.
  fanout.beforeFlush = () => {
    replies.flush();
    if (member !== null) flushMeshWrites();
  };
  // Every stamped message this worker fans out, sequenced here or received from the owner.
  const deliver = (topic: string, stamped: Buffer, epoch: number, offset: number): void => {
    store.append(topic, epoch, offset, stamped);
    fanout.deliver(topic, stamped);
  };
  const router: PublicationRouter = member === null ? new LocalRouter(store, deliver) : new MeshRouter(member);
  const tracker = new PresenceTracker(config.limits.presenceMaxMembers, config.limits.presenceMaxDataBytes);
  const presence = new PresenceSync(tracker, fanout, member, config.limits.presenceMaxDataBytes);
  if (member !== null) {
    member.onDeliver = deliver;
    member.onPresence = (event) => presence.onMeshEvent(event);
    member.presenceSnapshot = () => tracker.localSnapshot();
    member.onRangeRequest = (topic, epoch, from) => store.heldRange(topic, epoch, from);
    registerMeshMetrics(metrics.registry, member);
  }
  return {
    config,
    app,
    logger,
    metrics,
    sessions,
    index,
    fanout,
    replies,
    store,
    intake: new PublishIntake(router, backlog, metrics, MAX_QUEUED_PUBLISH_BYTES),
    backlog,
    presence,
    member,
    ranges: member === null ? null : new RangeFetcher(member, store),
    startedAtMs: Date.now(),
    clustered: member !== null,
  };
}

function recoveryStats(store: RecoveryStore, config: WseConfig) {
  const stats = store.stats();
  return { topics: stats.topics, bytes: stats.bytes, budget: config.recovery.memoryBudgetBytes, evictions: stats.evictions };
}
