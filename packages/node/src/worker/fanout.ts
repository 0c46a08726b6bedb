import type { TemplatedApp } from 'uWebSockets.js';
import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import { globMatch } from '../topics/glob.js';
import type { SubscriptionIndex } from '../topics/subscriptions.js';
import type { BacklogMonitor } from './backlog.js';

/** Publications held for the end of the loop turn before they are sent anyway. */
export const MAX_PENDING_PUBLICATIONS = 1024;

/**
 * Local fan-out of one publication on this worker (DESIGN.md, data path step 5): one `app.publish`
 * for every plain subscriber, so the JavaScript work per message does not grow with their number;
 * per-connection sends only for encrypted subscribers, glob subscribers and queue groups.
 *
 * Publications are sent once per loop turn, not inside the handler that stamped them. uWS sends
 * queued publications once more than 32 are waiting; inside a client's message handler that
 * client's socket holds the loop's one cork, so every subscriber then got each message in its own
 * `send` — a publisher with more than 32 publishes in flight cut deliveries/s five-fold (baseline
 * uWS too). From `setImmediate` every subscriber is corked and gets the turn's messages in one
 * write. Subscription changes call `flush()` first, so a subscriber's position and its first live
 * message stay as PROTOCOL.md §7 orders them.
 */
export class Fanout {
  private deliveryMark = 0;
  /** Topic, frame, topic, frame, … waiting for the end of the loop turn. */
  private readonly pending: Array<string | Buffer> = [];
  private flushScheduled = false;
  private flushing = false;
  private readonly flushNow = (): void => this.flush();
  /** uWS's subscriber count of the last topic sent, valid until the subscriptions change. */
  private countedTopic: string | null = null;
  private countedSubscribers = 0;
  /**
   * Runs before the queued publications are sent: the worker sends the turn's corked replies and
   * writes its mesh links here, so publishers' acks and a peer's MSG, PUBACK and CREDIT frames leave
   * before the writes to every subscriber, not after them.
   */
  beforeFlush: () => void = () => {};

  constructor(
    private readonly app: TemplatedApp,
    private readonly index: SubscriptionIndex,
    private readonly metrics: WorkerMetrics,
    private readonly backlog: BacklogMonitor,
  ) {}

  /** Queues a stamped publication (or a presence event) for every local subscriber of `topic`. */
  deliver(topic: string, frame: Buffer | string): void {
    this.pending.push(topic, frame);
    if (this.pending.length >= MAX_PENDING_PUBLICATIONS * 2) {
      this.metrics.counts.turnQueueFull.publications++;
      this.flush();
    }
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  /** Sends everything queued, in order; what a send queues meanwhile goes out in the same pass. */
  flush(): void {
    // Called first thing on every subscription change (SubscriptionIndex.beforeChange), also from
    // a close inside a send, so a cached count never outlives the subscribers it counted.
    this.countedTopic = null;
    if (this.flushing) return;
    this.flushing = true;
    this.flushScheduled = false;
    const pending = this.pending;
    if (pending.length > 0) this.beforeFlush();
    for (let i = 0; i < pending.length; i += 2) this.send(pending[i] as string, pending[i + 1] as Buffer | string);
    pending.length = 0;
    this.flushing = false;
  }

  private send(topic: string, frame: Buffer | string): void {
    this.app.publish(topic, frame, false);
    // A turn's publications mostly share a topic: one count per run of them, not per message.
    if (topic !== this.countedTopic) {
      this.countedSubscribers = this.app.numSubscribers(topic);
      this.countedTopic = topic;
    }
    let delivered = this.countedSubscribers;
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
    this.backlog.noteFanout(frame.length);
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
