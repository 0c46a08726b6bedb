import type { TemplatedApp } from 'uWebSockets.js';
import type { Session } from '../worker/session.js';
import { isGlob } from './glob.js';

/** Round-robin members of one queue group on one topic (server API, PROTOCOL.md §19). */
export interface QueueGroup {
  members: Session[];
  next: number;
}

/**
 * Who on this worker receives which topic. Plain exact subscribers live in uWS's topic tree, so a
 * publication to them is one `app.publish` call whatever their number; this index holds the rest:
 * encrypted connections (each needs its own `E:` frame), glob subscribers and queue groups, plus a
 * refcount per topic string that drives mesh interest (MESH.md §6).
 */
export class SubscriptionIndex {
  /** Encrypted sessions subscribed to an exact topic. */
  readonly direct = new Map<string, Set<Session>>();
  /** Glob pattern → sessions subscribed with it. */
  readonly globs = new Map<string, Set<Session>>();
  /** Topic → queue group name → members. */
  readonly groups = new Map<string, Map<string, QueueGroup>>();

  /**
   * Runs before any change of who receives what: the fan-out sends what it holds first, so a
   * publication stamped before the change reaches exactly the subscribers of that moment.
   */
  beforeChange: () => void = () => {};

  private readonly refcounts = new Map<string, number>();
  private subscriptionCount = 0;

  constructor(
    private readonly app: TemplatedApp,
    /** Called when a topic string gains its first or loses its last local subscriber. */
    private readonly onInterest: (topic: string, interested: boolean) => void,
  ) {}

  get topics(): number {
    return this.refcounts.size;
  }

  get subscriptions(): number {
    return this.subscriptionCount;
  }

  /** Returns false when the session already held the subscription (re-subscribe is normal, §7). */
  subscribe(session: Session, topic: string): boolean {
    if (session.topics.has(topic)) return false;
    this.beforeChange();
    session.topics.add(topic);
    this.subscriptionCount++;
    if (isGlob(topic)) addToSet(this.globs, topic, session);
    else if (session.cipher !== null) addToSet(this.direct, topic, session);
    else session.ws?.subscribe(topic);
    this.retain(topic);
    return true;
  }

  unsubscribe(session: Session, topic: string): boolean {
    if (!session.topics.has(topic)) return false;
    this.beforeChange();
    session.topics.delete(topic);
    this.subscriptionCount--;
    if (isGlob(topic)) removeFromSet(this.globs, topic, session);
    else if (!removeFromSet(this.direct, topic, session) && !session.closed) session.ws?.unsubscribe(topic);
    this.release(topic);
    return true;
  }

  joinGroup(session: Session, topic: string, group: string): boolean {
    const key = groupKey(topic, group);
    if (session.groups.has(key)) return false;
    this.beforeChange();
    session.groups.add(key);
    let byName = this.groups.get(topic);
    if (byName === undefined) this.groups.set(topic, (byName = new Map()));
    let queue = byName.get(group);
    if (queue === undefined) byName.set(group, (queue = { members: [], next: 0 }));
    queue.members.push(session);
    this.retain(topic);
    return true;
  }

  leaveGroup(session: Session, topic: string, group: string): boolean {
    const key = groupKey(topic, group);
    if (!session.groups.has(key)) return false;
    this.beforeChange();
    session.groups.delete(key);
    const byName = this.groups.get(topic);
    const queue = byName?.get(group);
    if (byName !== undefined && queue !== undefined) {
      queue.members = queue.members.filter((member) => member !== session);
      if (queue.members.length === 0) byName.delete(group);
      if (byName.size === 0) this.groups.delete(topic);
    }
    this.release(topic);
    return true;
  }

  /** Forgets every subscription of a closed session. */
  removeSession(session: Session): void {
    for (const topic of [...session.topics]) this.unsubscribe(session, topic);
    for (const key of [...session.groups]) {
      const [topic, group] = splitGroupKey(key);
      this.leaveGroup(session, topic, group);
    }
  }

  /**
   * After a key exchange the session needs its own encrypted frames (PROTOCOL.md §13), so its exact
   * subscriptions leave uWS's topic tree for the per-connection path.
   */
  moveToDirect(session: Session): void {
    this.beforeChange();
    for (const topic of session.topics) {
      if (isGlob(topic)) continue;
      session.ws?.unsubscribe(topic);
      addToSet(this.direct, topic, session);
    }
  }

  /** Topics this worker has interest in, for a mesh RESYNC. */
  interestedTopics(): IterableIterator<string> {
    return this.refcounts.keys();
  }

  hasLocalInterest(topic: string): boolean {
    return this.refcounts.has(topic) || this.app.numSubscribers(topic) > 0;
  }

  private retain(topic: string): void {
    const count = this.refcounts.get(topic) ?? 0;
    this.refcounts.set(topic, count + 1);
    if (count === 0) this.onInterest(topic, true);
  }

  private release(topic: string): void {
    const count = this.refcounts.get(topic) ?? 0;
    if (count <= 1) {
      this.refcounts.delete(topic);
      if (count === 1) this.onInterest(topic, false);
    } else {
      this.refcounts.set(topic, count - 1);
    }
  }
}

/** The unit separator cannot appear in a valid topic (control characters are refused). */
function groupKey(topic: string, group: string): string {
  return `${topic}\x1f${group}`;
}

function splitGroupKey(key: string): [string, string] {
  const at = key.indexOf('\x1f');
  return [key.slice(0, at), key.slice(at + 1)];
}

function addToSet<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFromSet<K, V>(map: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = map.get(key);
  if (set === undefined || !set.delete(value)) return false;
  if (set.size === 0) map.delete(key);
  return true;
}
