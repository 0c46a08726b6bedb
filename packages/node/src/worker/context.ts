import type { TemplatedApp } from 'uWebSockets.js';
import type { WseConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { PresenceTracker } from '../presence/tracker.js';
import type { RecoveryStore } from '../recovery/store.js';
import type { SubscriptionIndex } from '../topics/subscriptions.js';
import type { BacklogMonitor } from './backlog.js';
import type { Fanout } from './fanout.js';
import type { PublishIntake } from './publish-intake.js';
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
  readonly store: RecoveryStore;
  readonly intake: PublishIntake;
  readonly backlog: BacklogMonitor;
  readonly presence: PresenceTracker;
  readonly startedAtMs: number;
  readonly clustered: boolean;
}
