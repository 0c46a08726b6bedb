import type { MeshMember, PresenceEvent } from '@wse/mesh';
import type { Fanout } from '../worker/fanout.js';
import { presenceFrame, type PresenceChange, type PresenceTracker } from './tracker.js';

/**
 * Applies presence changes from this worker's connections and from the mesh to the tracker, sends
 * the resulting `presence_*` frames to local subscribers, and tells the mesh about local changes.
 */
export class PresenceSync {
  constructor(
    readonly tracker: PresenceTracker,
    private readonly fanout: Fanout,
    private readonly member: MeshMember | null,
    private readonly maxDataBytes: number,
  ) {}

  localJoin(topic: string, userId: string, connectionId: string, data: unknown): void {
    if (JSON.stringify(data).length > this.maxDataBytes) return;
    const now = Date.now();
    const firstLocal = !this.tracker.hasLocal(topic, userId);
    const change = this.tracker.join(topic, userId, connectionId, data, now);
    if (change === 'full') return;
    if (change !== null) this.broadcast(change, topic, userId, data);
    // MESH.md §10: a first local join is announced even when the user is already present through
    // a peer; otherwise peers would drop the user with that peer's leave.
    if (firstLocal) this.member?.presenceLocal(topic, userId, 'join', data, now);
    else if (change === 'update') this.member?.presenceLocal(topic, userId, 'update', data, now);
  }

  localLeave(topic: string, userId: string, connectionId: string): void {
    if (!this.tracker.holds(topic, userId, connectionId)) return;
    const data = this.tracker.dataOf(topic, userId);
    const change = this.tracker.leave(topic, userId, connectionId);
    if (change !== null) this.broadcast(change, topic, userId, data);
    // Peers hear of the leave when this member has no connection of the user left (§10).
    if (!this.tracker.hasLocal(topic, userId)) this.member?.presenceLocal(topic, userId, 'leave', null, Date.now());
  }

  /** MESH.md §10 merge of a remote event; only actual changes are broadcast. */
  onMeshEvent(event: PresenceEvent): void {
    if (event.kind === 'origin-lost') {
      for (const left of this.tracker.originLost(event.origin)) this.broadcast('leave', left.topic, left.userId, left.data);
      return;
    }
    const { origin, topic, user, data, updatedAt } = event;
    let change: PresenceChange;
    if (event.kind === 'join') change = this.tracker.remoteJoin(origin, topic, user, data, updatedAt);
    else if (event.kind === 'full') {
      // PresenceFull entries merge like joins but are not announced (§10).
      this.tracker.remoteJoin(origin, topic, user, data, updatedAt);
      change = null;
    } else if (event.kind === 'update') change = this.tracker.remoteUpdate(topic, user, data, updatedAt);
    else change = this.tracker.remoteLeave(origin, topic, user, updatedAt);
    if (change !== null) this.broadcast(change, topic, user, change === 'leave' ? this.tracker.dataOf(topic, user) ?? data : data);
  }

  private broadcast(change: 'join' | 'leave' | 'update', topic: string, userId: string, data: unknown): void {
    this.fanout.deliver(topic, presenceFrame(change, topic, userId, data));
  }
}
