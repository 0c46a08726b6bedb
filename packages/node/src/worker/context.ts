import type { MeshMember } from '@wse/mesh';
import type { TemplatedApp } from 'uWebSockets.js';
import type { WseConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { PresenceSync } from '../presence/presence-sync.js';
import type { RecoveryStore } from '../recovery/store.js';
import type { SubscriptionIndex } from '../topics/subscriptions.js';
import type { BacklogMonitor } from './backlog.js';
import type { CorkedReplies } from './corked-replies.js';
import type { Fanout } from './fanout.js';
import type { PublishIntake } from './publish-intake.js';
import type { RangeFetcher } from './range-fetcher.js';
import type { Session } from './session.js';

/** What the handlers of one worker share. Built once in server.ts. */
export interface WorkerContext {
  readonly config: WseConfig;
  readonly app: TemplatedApp;
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly sessions: Set<Session>;
  readonly index: SubscriptionIndex;
  readonly fanout: Fanout;
  /** Replies to clients that complete outside their message handler, sent corked per turn. */
  readonly replies: CorkedReplies;
  readonly store: RecoveryStore;
  readonly intake: PublishIntake;
  readonly backlog: BacklogMonitor;
  readonly presence: PresenceSync;
  /** This worker's mesh membership; null for a lone worker. */
  readonly member: MeshMember | null;
  /** Fills recovery rings from other members' (docs/MESH-EXTENSIONS.md E.f); null for a lone worker. */
  readonly ranges: RangeFetcher | null;
  readonly startedAtMs: number;
  readonly clustered: boolean;
}
