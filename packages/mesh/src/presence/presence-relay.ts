import { Cap, FrameType } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import { decodePresenceUpdate, encodePresenceUpdate, PresenceAction } from '../frame/payloads.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { LinkTable } from '../membership/link-table.js';
import type { MemberCounters } from '../metrics.js';
import { buildPresenceFull, parsePresenceFull, type PresenceEvent, type PresenceSnapshot } from './presence-codec.js';

export type PresenceChange = 'join' | 'leave' | 'update';

/**
 * Presence between members, MESH.md §10: local changes go out as PresenceUpdate, the local state
 * as PresenceFull after each handshake; what peers send comes back as events. Merging is the
 * presence store's job (the server's), keyed by the origin this relay reports.
 */
export class PresenceRelay {
  /** Remote presence events. */
  onPresence: ((event: PresenceEvent) => void) | null = null;
  /** Local presence state for PresenceFull after each handshake (§4, §10). */
  snapshot: (() => PresenceSnapshot) | null = null;

  constructor(
    private readonly links: LinkTable,
    private readonly enabled: boolean,
    private readonly counters: MemberCounters,
  ) {}

  /** Sends a local presence change to every PRESENCE link. */
  sendLocal(topic: string, user: string, change: PresenceChange, data: unknown, updatedAt: number): void {
    if (!this.enabled) return;
    const payload = encodePresenceUpdate({
      action: change === 'join' ? PresenceAction.JOIN : change === 'leave' ? PresenceAction.LEAVE : PresenceAction.UPDATE,
      updatedAt,
      user,
      data: data === undefined || data === null ? '' : JSON.stringify(data),
    });
    const t = Buffer.from(topic, 'utf8');
    for (const link of this.links.list) if (link.has(Cap.PRESENCE)) link.send(FrameType.PRESENCE_UPDATE, 0, t, payload);
  }

  /** §4 burst: the local state in PresenceFull chunks. */
  sendFull(link: MeshLink): void {
    if (!link.has(Cap.PRESENCE) || this.snapshot === null) return;
    for (const chunk of buildPresenceFull(this.snapshot())) link.send(FrameType.PRESENCE_FULL, 0, null, chunk);
  }

  onFrame(link: MeshLink, view: FrameView): void {
    if (!link.has(Cap.PRESENCE) || !this.enabled) return;
    const origin = link.peerId;
    if (view.type === FrameType.PRESENCE_UPDATE) {
      const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
      const u = decodePresenceUpdate(view.payload());
      if (topic === null || u === null) return link.close('bad-presence');
      const kind = u.action === PresenceAction.JOIN ? 'join' : u.action === PresenceAction.LEAVE ? 'leave' : 'update';
      return this.emit({ kind, origin, topic, user: u.user, data: parseData(u.data), updatedAt: u.updatedAt });
    }
    const entries = parsePresenceFull(view.payload());
    if (entries === null) return link.close('bad-presence');
    for (const e of entries) this.emit({ kind: 'full', origin, ...e });
  }

  /** §10 link lost: the store drops everything this origin reported. */
  linkLost(link: MeshLink): void {
    if (link.has(Cap.PRESENCE)) this.emit({ kind: 'origin-lost', origin: link.peerId });
  }

  private emit(event: PresenceEvent): void {
    if (this.onPresence === null) return;
    try {
      this.onPresence(event);
    } catch {
      this.counters.drops['deliver-error']++;
    }
  }
}

function parseData(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
