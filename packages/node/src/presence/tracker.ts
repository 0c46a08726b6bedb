/**
 * Who is present in which topic on this worker (PROTOCOL.md §9). Users are grouped by JWT `sub`:
 * a user joins with their first tracked connection in a topic and leaves with their last. Only
 * subscriptions that carry `p.presence` are tracked.
 */
export interface PresenceEntry {
  data: unknown;
  updatedAt: number;
  connections: Set<string>;
}

export type PresenceChange = 'join' | 'leave' | 'update' | null;

export class PresenceTracker {
  private readonly topics = new Map<string, Map<string, PresenceEntry>>();
  private memberCount = 0;

  constructor(private readonly maxMembersPerTopic: number) {}

  get members(): number {
    return this.memberCount;
  }

  /** Returns what to broadcast, or null; 'full' when the topic's member cap refuses a new user. */
  join(topic: string, userId: string, connectionId: string, data: unknown, now: number): PresenceChange | 'full' {
    let users = this.topics.get(topic);
    const entry = users?.get(userId);
    if (entry !== undefined) {
      entry.connections.add(connectionId);
      if (JSON.stringify(entry.data) === JSON.stringify(data)) return null;
      entry.data = data;
      entry.updatedAt = now;
      return 'update';
    }
    if (users === undefined) this.topics.set(topic, (users = new Map()));
    if (this.maxMembersPerTopic > 0 && users.size >= this.maxMembersPerTopic) return 'full';
    users.set(userId, { data, updatedAt: now, connections: new Set([connectionId]) });
    this.memberCount++;
    return 'join';
  }

  leave(topic: string, userId: string, connectionId: string): PresenceChange {
    const users = this.topics.get(topic);
    const entry = users?.get(userId);
    if (users === undefined || entry === undefined || !entry.connections.delete(connectionId)) return null;
    if (entry.connections.size > 0) return null;
    users.delete(userId);
    this.memberCount--;
    if (users.size === 0) this.topics.delete(topic);
    return 'leave';
  }

  dataOf(topic: string, userId: string): unknown {
    return this.topics.get(topic)?.get(userId)?.data ?? null;
  }

  /** The members of a topic as the original's presence query returns them. */
  query(topic: string): Record<string, { data: unknown; updated_at: number; connections: number }> {
    const result: Record<string, { data: unknown; updated_at: number; connections: number }> = {};
    for (const [userId, entry] of this.topics.get(topic) ?? []) {
      result[userId] = { data: entry.data, updated_at: entry.updatedAt, connections: entry.connections.size };
    }
    return result;
  }
}

/** A presence event frame: text, never stamped or stored (PROTOCOL.md §9). */
export function presenceFrame(change: 'join' | 'leave' | 'update', topic: string, userId: string, data: unknown): string {
  return JSON.stringify({ c: 'WSE', t: `presence_${change}`, p: { user_id: userId, data, topic } });
}
