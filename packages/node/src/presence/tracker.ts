/**
 * Who is present in which topic, as one view across the cluster (PROTOCOL.md §9, MESH.md §10).
 * Users are grouped by JWT `sub`: a user joins with their first connection in a topic and leaves
 * with their last. A user present through another member is held by a sentinel connection
 * `__remote__<origin>\x1F<user>`, one per origin, so one peer's leave cannot remove a user still
 * present elsewhere. Only subscriptions that carry `p.presence` are tracked.
 */
export interface PresenceEntry {
  data: unknown;
  updatedAt: number;
  /** Local connection ids and remote sentinels. */
  connections: Set<string>;
}

export type PresenceChange = 'join' | 'leave' | 'update' | null;

const REMOTE_PREFIX = '__remote__';

function sentinel(origin: string, userId: string): string {
  return `${REMOTE_PREFIX}${origin}\x1f${userId}`;
}

export class PresenceTracker {
  private readonly topics = new Map<string, Map<string, PresenceEntry>>();
  private memberCount = 0;

  constructor(
    private readonly maxMembersPerTopic: number,
    private readonly maxDataBytes: number,
  ) {}

  get members(): number {
    return this.memberCount;
  }

  /** A local connection subscribed with presence data; 'full' when the member cap refuses it. */
  join(topic: string, userId: string, connectionId: string, data: unknown, now: number): PresenceChange | 'full' {
    const existing = this.topics.get(topic)?.get(userId);
    if (existing === undefined && this.isFull(topic)) return 'full';
    const entry = existing ?? this.create(topic, userId, data, now);
    entry.connections.add(connectionId);
    if (existing === undefined) return 'join';
    if (sameData(entry.data, data)) return null;
    entry.data = data;
    entry.updatedAt = now;
    return 'update';
  }

  /** A local connection left the topic; 'leave' when it was the user's last connection anywhere. */
  leave(topic: string, userId: string, connectionId: string): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined || !entry.connections.delete(connectionId)) return null;
    return this.dropIfEmpty(topic, userId, entry) ? 'leave' : null;
  }

  holds(topic: string, userId: string, connectionId: string): boolean {
    return this.topics.get(topic)?.get(userId)?.connections.has(connectionId) ?? false;
  }

  /** Whether the user still has a connection on this member (what peers are told about). */
  hasLocal(topic: string, userId: string): boolean {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined) return false;
    for (const connection of entry.connections) if (!connection.startsWith(REMOTE_PREFIX)) return true;
    return false;
  }

  /** MESH.md §10 join (and each PresenceFull entry): last write wins, one sentinel per origin. */
  remoteJoin(origin: string, topic: string, userId: string, data: unknown, updatedAt: number): PresenceChange {
    if (JSON.stringify(data ?? null).length > this.maxDataBytes) return null;
    const existing = this.topics.get(topic)?.get(userId);
    if (existing === undefined && this.isFull(topic)) return null;
    const entry = existing ?? this.create(topic, userId, data, updatedAt);
    entry.connections.add(sentinel(origin, userId));
    if (existing === undefined) return 'join';
    if (updatedAt < entry.updatedAt || sameData(entry.data, data)) return null;
    entry.data = data;
    entry.updatedAt = updatedAt;
    return 'update';
  }

  remoteUpdate(topic: string, userId: string, data: unknown, updatedAt: number): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined || updatedAt < entry.updatedAt || sameData(entry.data, data)) return null;
    entry.data = data;
    entry.updatedAt = updatedAt;
    return 'update';
  }

  /** An older leave than the entry's last write is ignored (LWW). */
  remoteLeave(origin: string, topic: string, userId: string, updatedAt: number): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined || updatedAt < entry.updatedAt) return null;
    if (!entry.connections.delete(sentinel(origin, userId))) return null;
    entry.updatedAt = updatedAt;
    return this.dropIfEmpty(topic, userId, entry) ? 'leave' : null;
  }

  /** A link to `origin` closed: its sentinels go; returns the users who left as a result. */
  originLost(origin: string): Array<{ topic: string; userId: string; data: unknown }> {
    const left: Array<{ topic: string; userId: string; data: unknown }> = [];
    for (const [topic, users] of this.topics) {
      for (const [userId, entry] of users) {
        if (entry.connections.delete(sentinel(origin, userId)) && this.dropIfEmpty(topic, userId, entry)) {
          left.push({ topic, userId, data: entry.data });
        }
      }
    }
    return left;
  }

  dataOf(topic: string, userId: string): unknown {
    return this.topics.get(topic)?.get(userId)?.data ?? null;
  }

  /** Users with at least one local connection, as PresenceFull carries them (MESH.md §10). */
  localSnapshot(): Record<string, Record<string, { data: unknown; updated_at: number }>> {
    const snapshot: Record<string, Record<string, { data: unknown; updated_at: number }>> = {};
    for (const [topic, users] of this.topics) {
      for (const [userId, entry] of users) {
        if (!this.hasLocal(topic, userId)) continue;
        (snapshot[topic] ??= {})[userId] = { data: entry.data, updated_at: entry.updatedAt };
      }
    }
    return snapshot;
  }

  /** The members of a topic as the original's presence query returns them. */
  query(topic: string): Record<string, { data: unknown; updated_at: number; connections: number }> {
    const result: Record<string, { data: unknown; updated_at: number; connections: number }> = {};
    for (const [userId, entry] of this.topics.get(topic) ?? []) {
      result[userId] = { data: entry.data, updated_at: entry.updatedAt, connections: entry.connections.size };
    }
    return result;
  }

  private isFull(topic: string): boolean {
    const users = this.topics.get(topic);
    return this.maxMembersPerTopic > 0 && users !== undefined && users.size >= this.maxMembersPerTopic;
  }

  private create(topic: string, userId: string, data: unknown, updatedAt: number): PresenceEntry {
    let users = this.topics.get(topic);
    if (users === undefined) this.topics.set(topic, (users = new Map()));
    const entry: PresenceEntry = { data, updatedAt, connections: new Set() };
    users.set(userId, entry);
    this.memberCount++;
    return entry;
  }

  private dropIfEmpty(topic: string, userId: string, entry: PresenceEntry): boolean {
    if (entry.connections.size > 0) return false;
    const users = this.topics.get(topic);
    users?.delete(userId);
    if (users?.size === 0) this.topics.delete(topic);
    this.memberCount--;
    return true;
  }
}

function sameData(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A presence event frame: text, never stamped or stored (PROTOCOL.md §9). */
export function presenceFrame(change: 'join' | 'leave' | 'update', topic: string, userId: string, data: unknown): string {
  return JSON.stringify({ c: 'WSE', t: `presence_${change}`, p: { user_id: userId, data, topic } });
}
