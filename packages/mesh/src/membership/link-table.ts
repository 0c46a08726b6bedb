import { Cap } from '../frame/constants.js';
import { newTrafficCounters, type MeshLink, type TrafficCounters } from '../link/mesh-link.js';

/**
 * The member's open links, at most one per peer instance id (§4 duplicate check), with the
 * traffic of each peer node and two generation counters that tell caches what changed.
 */
export class LinkTable {
  /** The open links as an array, rebuilt on every change: per-message paths iterate it. */
  list: MeshLink[] = [];
  /** Bumped whenever the candidate set may have changed: a link opened or closed, a DRAIN (§E.a). */
  viewGen = 0;
  /** Bumped whenever the forwarding decision may have changed: links or a peer's interest (§6). */
  routeGen = 0;
  private readonly byPeer = new Map<string, MeshLink>();
  private readonly nodes = new Map<string, TrafficCounters>();

  get size(): number {
    return this.byPeer.size;
  }

  has(instanceId: string): boolean {
    return this.byPeer.has(instanceId);
  }

  get(instanceId: string): MeshLink | undefined {
    return this.byPeer.get(instanceId);
  }

  /** Frames and bytes per peer node id, over the member's life (metrics are labelled by node). */
  get traffic(): ReadonlyMap<string, TrafficCounters> {
    return this.nodes;
  }

  /** A link finished its handshake; from now on its traffic counts for its peer's node. */
  add(link: MeshLink): void {
    const node = this.nodeTraffic(link.nodeId);
    node.framesIn += link.counters.framesIn;
    node.bytesIn += link.counters.bytesIn;
    node.framesOut += link.counters.framesOut;
    node.bytesOut += link.counters.bytesOut;
    link.counters = node;
    this.byPeer.set(link.peerId, link);
    this.changed();
  }

  /** False when `link` is not the open link of its peer (a refused duplicate, a handshake). */
  remove(link: MeshLink): boolean {
    if (this.byPeer.get(link.peerId) !== link) return false;
    this.byPeer.delete(link.peerId);
    this.changed();
    return true;
  }

  /** Open links to peers that can own topics: negotiated SEQUENCER and not draining (§E.a). */
  sequencerPeers(): MeshLink[] {
    return this.list.filter((l) => l.has(Cap.SEQUENCER) && !l.peerDraining);
  }

  private changed(): void {
    this.list = [...this.byPeer.values()];
    this.viewGen++;
    this.routeGen++;
  }

  private nodeTraffic(nodeId: string): TrafficCounters {
    let c = this.nodes.get(nodeId);
    if (c === undefined) {
      c = newTrafficCounters();
      this.nodes.set(nodeId, c);
    }
    return c;
  }
}
