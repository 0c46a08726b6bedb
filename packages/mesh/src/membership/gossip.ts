import { FrameType } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import { decodePeerList, encodePeerList } from '../frame/payloads.js';
import { isLiteralAddress } from '../link/address.js';
import type { LocalIdentity } from '../link/handshake.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { LinkTable } from './link-table.js';
import type { PeerDirectory } from './peer-directory.js';

/**
 * Gossip, MESH.md §9 with §E.c: right after a handshake each side tells the other its own address
 * and every address it knows; a new literal address is dialed and passed on once.
 */
export class Gossip {
  constructor(
    private readonly links: LinkTable,
    private readonly directory: PeerDirectory,
    private readonly identity: LocalIdentity,
  ) {}

  /**
   * §4 burst: PeerAnnounce with our address, then PeerList with every other member's advertised
   * address and the addresses we know but have not reached yet.
   */
  announceTo(link: MeshLink): void {
    if (this.identity.address !== '') link.send(FrameType.PEER_ANNOUNCE, 0, Buffer.from(this.identity.address), null);
    const known = new Set(this.directory.unreachedAddresses());
    for (const l of this.links.list) if (l !== link && l.peer?.info?.address) known.add(l.peer.info.address);
    known.delete(link.peer?.info?.address ?? '');
    if (known.size > 0) link.send(FrameType.PEER_LIST, 0, null, encodePeerList([...known]));
  }

  onPeerAnnounce(link: MeshLink, view: FrameView): void {
    const address = view.buf.toString('utf8', view.topicStart, view.topicStart + view.topicLen);
    // A peer announcing itself on a link it just opened is news for our other peers even though
    // its HELLO (§E.c) already told us its address: pass it on, or they never hear of it.
    const selfAnnounced = address === link.peer?.info?.address;
    if (!this.learn(address) && !selfAnnounced) return;
    // §9: forward a new address on every other link, never back to its source.
    const t = Buffer.from(address, 'utf8');
    for (const l of this.links.list) if (l !== link) l.send(FrameType.PEER_ANNOUNCE, 0, t, null);
  }

  onPeerList(view: FrameView): void {
    for (const address of decodePeerList(view.payload())) this.learn(address);
  }

  /** A new literal `IP:port`, not ours and not known, is dialed. */
  private learn(address: string): boolean {
    if (!isLiteralAddress(address) || address === this.identity.address) return false;
    for (const l of this.links.list) if (l.peer?.info?.address === address) return false;
    return this.directory.learn(address, 'gossip');
  }
}
