import { Cap, FrameType } from '../frame/constants.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { PeerDirectory } from './peer-directory.js';

/**
 * Whether this member's view of the mesh has settled: every address it knows of has been tried
 * (PeerDirectory.settled) and every open link has delivered its post-handshake burst (§4), whose
 * PeerList may name members not known yet. A member that has just started links the mesh one peer
 * at a time; a topic claimed before its view settles misses the owner it has not met yet (§E.a).
 *
 * The burst is known to be in once the PONG to a PING sent at open arrives: the peer sends its burst
 * as it opens the link, before it reads that PING, and a link is FIFO. Only SEQUENCER peers are
 * waited for: they are the members that own topics, and each of them gossips the whole mesh it knows.
 */
export class SettledView {
  /** Open links whose burst may still be on its way. */
  private readonly unsynced = new Set<MeshLink>();

  constructor(
    private readonly directory: PeerDirectory,
    private readonly onSettled: () => void,
  ) {}

  get settled(): boolean {
    return this.unsynced.size === 0 && this.directory.settled;
  }

  linkOpened(link: MeshLink): void {
    if (!link.has(Cap.SEQUENCER)) return;
    this.unsynced.add(link);
    link.pingSentAt = Date.now();
    link.send(FrameType.PING, 0, null, null);
  }

  ponged(link: MeshLink): void {
    if (this.unsynced.delete(link)) this.check();
  }

  linkClosed(link: MeshLink): void {
    if (this.unsynced.delete(link)) this.check();
  }

  directorySettled(): void {
    this.check();
  }

  private check(): void {
    if (this.settled) this.onSettled();
  }
}
