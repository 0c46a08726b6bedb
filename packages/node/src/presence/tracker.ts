/**
 * Who is present in which topic, as one view across the cluster (PROTOCOL.md §9, MESH.md §10).
 * Users are grouped by JWT `sub`: a user joins with their first connection in a topic and leaves
 * with their last. A user present through another member is held once per origin (the spec's
 * sentinel connection), so one peer's leave cannot remove a user still present elsewhere. Only
 * subscriptions that carry `p.presence` are tracked.
 *
 * Each origin's presence carries that origin's own last write time. The spec compares a leave
 * with the entry's last write from any origin; leaves of two origins that cross on the wire then
 * leave a user present forever. Comparing with the same origin's last write keeps the guard
 * against stale frames of one origin without that ghost.
 */
export interface PresenceEntry {
  data: unknown;
  /** Time of the write that set `data` (last write wins across origins). */
  updatedAt: number;
  /** Connection ids on this worker. */
  local: Set<string>;
  /** Origins reporting the user → that origin's last write time. */
  remote: Map<string, number>;
}

export type PresenceChange = 'join' | 'leave' | 'update' | null;

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
    entry.local.add(connectionId);
    if (existing === undefined) return 'join';
    return this.write(entry, data, now);
  }

  /** A local connection left the topic; 'leave' when it was the user's last connection anywhere. */
  leave(topic: string, userId: string, connectionId: string): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined || !entry.local.delete(connectionId)) return null;
    return this.dropIfEmpty(topic, userId, entry) ? 'leave' : null;
  }

  holds(topic: string, userId: string, connectionId: string): boolean {
    return this.topics.get(topic)?.get(userId)?.local.has(connectionId) ?? false;
  }

  /** Whether the user still has a connection on this member (what peers are told about). */
  hasLocal(topic: string, userId: string): boolean {
    return (this.topics.get(topic)?.get(userId)?.local.size ?? 0) > 0;
  }

  /** MESH.md §10 join (and each PresenceFull entry): last write wins, one presence per origin. */
  remoteJoin(origin: string, topic: string, userId: string, data: unknown, updatedAt: number): PresenceChange {
    if (JSON.stringify(data ?? null).length > this.maxDataBytes) return null;
    const existing = this.topics.get(topic)?.get(userId);
    if (existing === undefined && this.isFull(topic)) return null;
    const entry = existing ?? this.create(topic, userId, data, updatedAt);
    entry.remote.set(origin, updatedAt);
    if (existing === undefined) return 'join';
    return this.write(entry, data, updatedAt);
  }

  remoteUpdate(topic: string, userId: string, data: unknown, updatedAt: number): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    if (entry === undefined) return null;
    return this.write(entry, data, updatedAt);
  }

  /** A leave older than the same origin's last write is a stale frame and is ignored. */
  remoteLeave(origin: string, topic: string, userId: string, updatedAt: number): PresenceChange {
    const entry = this.topics.get(topic)?.get(userId);
    const since = entry?.remote.get(origin);
    if (entry === undefined || since === undefined || updatedAt < since) return null;
    entry.remote.delete(origin);
    return this.dropIfEmpty(topic, userId, entry) ? 'leave' : null;
  }

  /** A link to `origin` closed: everything it reported goes; returns the users who left as a result. */
  originLost(origin: string): Array<{ topic: string; userId: string; data: unknown }> {
    const left: Array<{ topic: string; userId: string; data: unknown }> = [];
    for (const [topic, users] of this.topics) {
      for (const [userId, entry] of users) {
        if (entry.remote.delete(origin) && this.dropIfEmpty(topic, userId, entry)) {
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
      result[userId] = { data: entry.data, updated_at: entry.updatedAt, connections: entry.local.size + entry.remote.size };
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
    const entry: PresenceEntry = { data, updatedAt, local: new Set(), remote: new Map() };
    users.set(userId, entry);
    this.memberCount++;
    return entry;
  }

  /** Last write wins: newer, different data replaces the entry's and is an update. */
  private write(entry: PresenceEntry, data: unknown, updatedAt: number): PresenceChange {
    if (updatedAt < entry.updatedAt || sameData(entry.data, data)) return null;
    entry.data = data;
    entry.updatedAt = updatedAt;
    return 'update';
  }

  private dropIfEmpty(topic: string, userId: string, entry: PresenceEntry): boolean {
    if (entry.local.size > 0 || entry.remote.size > 0) return false;
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
