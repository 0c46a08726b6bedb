import type { TemplatedApp } from 'uWebSockets.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { globMatch } from '../topics/glob.js';
import type { SubscriptionIndex } from '../topics/subscriptions.js';

/**
 * Local fan-out of one publication on this worker (DESIGN.md, data path step 5): one `app.publish`
 * for every plain subscriber, so the JavaScript work per message does not grow with their number;
 * per-connection sends only for encrypted subscribers, glob subscribers and queue groups.
 */
export class Fanout {
  private deliveryMark = 0;

  constructor(
    private readonly app: TemplatedApp,
    private readonly index: SubscriptionIndex,
    private readonly metrics: WorkerMetrics,
  ) {}

  /** Sends a stamped publication (or a presence event) to every local subscriber of `topic`. */
  deliver(topic: string, frame: Buffer | string): number {
    this.app.publish(topic, frame, false);
    let delivered = this.app.numSubscribers(topic);
    const direct = this.index.direct.get(topic);
    if (direct !== undefined) {
      for (const session of direct) if (session.sendPublication(frame)) delivered++;
    }
    if (this.index.globs.size > 0) delivered += this.deliverToGlobs(topic, frame);
    const groups = this.index.groups.get(topic);
    if (groups !== undefined) {
      for (const queue of groups.values()) {
        const member = queue.members[queue.next++ % queue.members.length];
        if (member !== undefined && member.sendPublication(frame)) delivered++;
      }
    }
    this.metrics.counts.messagesSent += delivered;
    return delivered;
  }

  /**
   * A session may hold an exact subscription and several matching globs: it gets the message once.
   * The token's ACL is checked per topic here because a glob can cover topics it denies (§7).
   */
  private deliverToGlobs(topic: string, frame: Buffer | string): number {
    const mark = ++this.deliveryMark;
    let delivered = 0;
    for (const [pattern, sessions] of this.index.globs) {
      if (!globMatch(pattern, topic)) continue;
      for (const session of sessions) {
        if (session.deliveryMark === mark || session.topics.has(topic)) continue;
        session.deliveryMark = mark;
        if (session.identity.topics.allows(topic) && session.sendPublication(frame)) delivered++;
      }
    }
    return delivered;
  }
}
