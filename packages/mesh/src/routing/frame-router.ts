import { Cap, FrameType } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import type { InterestRouting } from '../interest/interest-routing.js';
import type { Heartbeat } from '../link/heartbeat.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { Gossip } from '../membership/gossip.js';
import type { MemberCounters } from '../metrics.js';
import type { PresenceRelay } from '../presence/presence-relay.js';
import type { Sequencer } from '../sequencer/sequencer.js';
import type { LocalDelivery } from './local-delivery.js';
import type { RangeService } from './range-service.js';

export interface FrameRoutes {
  delivery: LocalDelivery;
  heartbeat: Heartbeat;
  interest: InterestRouting;
  gossip: Gossip;
  presence: PresenceRelay;
  sequencer: Sequencer;
  ranges: RangeService;
  /** SHUTDOWN (§11). */
  onPeerShutdown(link: MeshLink): void;
  /** DRAIN (§11). */
  onPeerDrain(link: MeshLink): void;
}

/** Hands each frame received on an open link (§3 types) to the part of the member that handles it. */
export class FrameRouter {
  constructor(
    private readonly to: FrameRoutes,
    private readonly counters: MemberCounters,
  ) {}

  route(link: MeshLink, view: FrameView): void {
    switch (view.type) {
      case FrameType.MSG:
        return this.to.delivery.receive(link, view);
      case FrameType.PING:
        return this.to.heartbeat.onPing(link);
      case FrameType.PONG:
        return this.to.heartbeat.onPong(link);
      case FrameType.HELLO:
        return; // §4: a HELLO after the handshake is ignored
      case FrameType.SHUTDOWN:
        return this.to.onPeerShutdown(link);
      case FrameType.SUB:
      case FrameType.UNSUB:
        return this.to.interest.onSubUnsub(link, view);
      case FrameType.RESYNC:
        return this.to.interest.onResync(link, view);
      case FrameType.PEER_ANNOUNCE:
        return this.to.gossip.onPeerAnnounce(link, view);
      case FrameType.PEER_LIST:
        return this.to.gossip.onPeerList(view);
      case FrameType.PRESENCE_UPDATE:
      case FrameType.PRESENCE_FULL:
        return this.to.presence.onFrame(link, view);
      case FrameType.DRAIN:
        return this.to.onPeerDrain(link);
      default:
        return this.routeExtension(link, view);
    }
  }

  /**
   * §E frames 0x0E–0x12 go to the sequencer on SEQUENCER links, 0x13–0x14 to the range service on
   * RANGE links; anything else is skipped (§2).
   */
  private routeExtension(link: MeshLink, view: FrameView): void {
    const sequencing = view.type >= FrameType.PUBLISH && view.type <= FrameType.CREDIT && link.has(Cap.SEQUENCER);
    const ranging = (view.type === FrameType.RANGE_REQUEST || view.type === FrameType.RANGE_REPLY) && link.has(Cap.RANGE);
    if (!sequencing && !ranging) {
      this.counters.drops['unknown-type']++; // §2: skip, count, keep the link
      return;
    }
    const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
    if (topic === null) return link.close('bad-utf8');
    if (sequencing) this.to.sequencer.onFrame(link, view, topic);
    else this.to.ranges.onFrame(link, view, topic);
  }
}
