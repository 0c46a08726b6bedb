import { FrameType } from '../frame/constants.js';
import type { LinkTable } from '../membership/link-table.js';
import type { MemberCounters } from '../metrics.js';
import type { MeshLink } from './mesh-link.js';

export interface HeartbeatSettings {
  pingIntervalMs: number;
  deadAfterMs: number;
}

/**
 * MESH.md §5: a PING on every link each interval; a link silent for longer than `deadAfterMs` is
 * closed, except one whose reading this member paused (§E.b.6). The same tick sends the periodic
 * RESYNC when it is due.
 *
 * Silence is also counted in ticks. After this member's own event loop was blocked, the first tick
 * runs before the sockets are read, so every link looks silent for as long as the block lasted;
 * requiring as many silent ticks as `deadAfterMs` holds intervals keeps healthy links open then.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private readonly deadAfterTicks: number;

  constructor(
    private readonly links: LinkTable,
    private readonly s: HeartbeatSettings,
    private readonly counters: MemberCounters,
    private readonly resync: (link: MeshLink, now: number) => void,
    /** Told of every PONG: the settled view waits for the one answering its PING at open. */
    private readonly ponged: (link: MeshLink) => void,
  ) {
    this.deadAfterTicks = Math.max(1, Math.floor(s.deadAfterMs / s.pingIntervalMs));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), this.s.pingIntervalMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  onPing(link: MeshLink): void {
    link.send(FrameType.PONG, 0, null, null);
  }

  onPong(link: MeshLink): void {
    if (link.pingSentAt > 0) link.rttMs = Date.now() - link.pingSentAt;
    this.ponged(link);
  }

  private tick(): void {
    const now = Date.now();
    for (const link of this.links.list) {
      link.silentTicks = link.lastActivity === link.activitySeenAtTick ? link.silentTicks + 1 : 0;
      link.activitySeenAtTick = link.lastActivity;
      if (!link.readPaused && link.silentTicks >= this.deadAfterTicks && now - link.lastActivity > this.s.deadAfterMs) {
        this.counters.deadPeers++;
        link.close('dead-peer');
        continue;
      }
      link.pingSentAt = now;
      link.send(FrameType.PING, 0, null, null);
      if (now >= link.resyncAt) this.resync(link, now);
    }
  }
}
