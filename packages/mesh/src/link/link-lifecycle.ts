import { Cap, FrameType, PROTOCOL_VERSION } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import type { Hello } from '../frame/payloads.js';
import type { InterestRouting } from '../interest/interest-routing.js';
import { collectDeadLetters, type DeadLetterRing } from '../membership/dead-letter.js';
import type { Gossip } from '../membership/gossip.js';
import type { LinkTable } from '../membership/link-table.js';
import type { PeerDirectory } from '../membership/peer-directory.js';
import type { SettledView } from '../membership/settled-view.js';
import type { MemberCounters } from '../metrics.js';
import type { MeshLogger, MeshTuning } from '../options.js';
import type { PresenceRelay } from '../presence/presence-relay.js';
import { FrameRouter } from '../routing/frame-router.js';
import type { LocalDelivery } from '../routing/local-delivery.js';
import type { RangeService } from '../routing/range-service.js';
import type { UnstampedPublisher } from '../routing/unstamped-publisher.js';
import type { Sequencer } from '../sequencer/sequencer.js';
import type { LocalIdentity } from './handshake.js';
import { Handshaker, type HandshakeHost } from './handshaker.js';
import type { Heartbeat } from './heartbeat.js';
import type { LinkHost, MeshLink } from './mesh-link.js';
import type { TlsMaterial } from './transport.js';

/** The parts of the member a link's life touches. */
export interface LinkLifecycleParts {
  identity: LocalIdentity;
  tuning: MeshTuning;
  tls: TlsMaterial | null;
  isStarted: () => boolean;
  links: LinkTable;
  directory: PeerDirectory;
  view: SettledView;
  sequencer: Sequencer;
  ranges: RangeService;
  interest: InterestRouting;
  gossip: Gossip;
  presence: PresenceRelay;
  delivery: LocalDelivery;
  heartbeat: Heartbeat;
  publisher: UnstampedPublisher;
  deadLetters: DeadLetterRing;
  counters: MemberCounters;
  log: MeshLogger;
}

/**
 * The life of a link once its socket exists (MESH.md §4, §11): the handshake; on open the
 * negotiated capabilities, the link table and the post-handshake burst; its frames while open;
 * on close the dead letters (§E.b.7) and the view change. Also this member's own DRAIN and intake
 * pause, which every new link inherits.
 */
export class LinkLifecycle implements LinkHost, HandshakeHost {
  readonly handshaker: Handshaker;
  readonly linkHost: LinkHost = this;
  /** The membership changed (a link opened, closed, or a peer started draining). */
  onMembersChanged: (() => void) | null = null;
  draining = false;
  private intakePaused = false;
  private readonly router: FrameRouter;

  constructor(private readonly parts: LinkLifecycleParts) {
    const p = parts;
    this.handshaker = new Handshaker(this, p.identity, p.tls, p.tuning, p.directory, p.counters, p.log);
    this.router = new FrameRouter(
      {
        delivery: p.delivery,
        heartbeat: p.heartbeat,
        interest: p.interest,
        gossip: p.gossip,
        presence: p.presence,
        sequencer: p.sequencer,
        ranges: p.ranges,
        onPeerShutdown: (link) => link.close('peer-shutdown'),
        onPeerDrain: (link) => this.onPeerDrain(link),
      },
      p.counters,
    );
  }

  // ---- HandshakeHost ----

  isStarted(): boolean {
    return this.parts.isStarted();
  }

  isLinked(instanceId: string): boolean {
    return this.parts.links.has(instanceId);
  }

  peerCount(): number {
    return this.parts.links.size;
  }

  /** The handshake succeeded (§4): negotiate, register, send the burst, re-route. */
  open(link: MeshLink, hello: Hello): void {
    const p = this.parts;
    link.peer = hello;
    link.caps = p.identity.caps & hello.caps;
    link.version = Math.min(PROTOCOL_VERSION, hello.version);
    link.state = 'open';
    p.links.add(link);
    p.counters.linksOpened++;
    p.directory.linkedVia(hello.instanceId, hello.info?.address ?? '');
    p.sequencer.onLinkOpen(link);
    this.sendBurst(link);
    p.view.linkOpened(link);
    if (this.draining) link.send(FrameType.DRAIN, 0, null, null);
    if (this.intakePaused) link.pauseReading();
    p.sequencer.onViewChange();
    p.log.info({ peer: hello.instanceId, peer_node: link.nodeId, role: link.role }, 'mesh link open');
    this.onMembersChanged?.();
  }

  // ---- LinkHost ----

  onLinkFrame(link: MeshLink, view: FrameView): void {
    if (link.state === 'handshake') return this.handshaker.onFrame(link, view);
    this.router.route(link, view);
  }

  onLinkBadFrame(link: MeshLink, reason: string, err?: unknown): void {
    this.parts.counters.badFrames++;
    this.parts.log.warn({ peer: link.peerId, address: link.address, reason, err }, 'mesh: bad frame, closing link');
  }

  onLinkWritable(): void {
    this.parts.sequencer.onLinkWritable();
    this.parts.publisher.wake();
  }

  onLinkClosed(link: MeshLink, reason: string, unsent: Buffer[]): void {
    if (this.handshaker.onClosed(link)) return;
    const p = this.parts;
    if (!p.links.remove(link)) return;
    p.counters.linksClosed++;
    const lost = collectDeadLetters(unsent, link.peer?.info?.address || link.address, reason, p.deadLetters);
    p.counters.drops['link-closed'] += lost;
    p.view.linkClosed(link);
    p.sequencer.onLinkClosed(link);
    p.publisher.wake();
    p.directory.linkClosed(link.peerId);
    p.presence.linkLost(link);
    p.log.info({ peer: link.peerId, peer_node: link.nodeId, reason, lost }, 'mesh link closed');
    this.onMembersChanged?.();
  }

  // ---- this member ----

  /** §E.b.4: pause (or resume) reading every link, and every link that opens meanwhile. */
  setIntakePaused(paused: boolean): void {
    if (this.intakePaused === paused) return;
    this.intakePaused = paused;
    for (const link of this.parts.links.list) {
      if (paused) link.pauseReading();
      else link.resumeReading();
    }
  }

  /** §11 DRAIN to every link; owned topics are handed over (§E.a). */
  drain(): void {
    this.draining = true;
    this.parts.links.viewGen++;
    for (const link of this.parts.links.list) link.send(FrameType.DRAIN, 0, null, null);
    this.parts.sequencer.drain();
  }

  /** SHUTDOWN to every link, then close them and every link still in its handshake. */
  closeAll(): void {
    for (const link of [...this.parts.links.list]) {
      link.send(FrameType.SHUTDOWN, 0, null, null);
      link.end('shutdown');
    }
    this.handshaker.closeAll();
  }

  /** §E.a candidates: this member unless draining, plus every non-draining SEQUENCER peer. */
  candidates(): string[] {
    const ids = this.parts.links.sequencerPeers().map((l) => l.peerId);
    const selfCan = (this.parts.identity.caps & Cap.SEQUENCER) !== 0;
    // A draining member left alone keeps sequencing: nobody else could.
    if (selfCan && (!this.draining || ids.length === 0)) ids.push(this.parts.identity.instanceId);
    return ids;
  }

  /** §4 post-handshake burst: RESYNC, PeerAnnounce, PeerList, PresenceFull. */
  private sendBurst(link: MeshLink): void {
    this.parts.interest.sendResync(link);
    this.parts.gossip.announceTo(link);
    this.parts.presence.sendFull(link);
  }

  /** §11 DRAIN from a peer: no new MSGs to it (§12 note 5), and it leaves the candidate set. */
  private onPeerDrain(link: MeshLink): void {
    link.peerDraining = true;
    this.parts.interest.onPeerDrain(link);
    this.parts.links.viewGen++;
    this.parts.sequencer.onViewChange();
    this.onMembersChanged?.();
  }
}
