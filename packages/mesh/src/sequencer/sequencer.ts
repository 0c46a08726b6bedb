import { Cap, Flag, FrameType } from '../frame/constants.js';
import { decompressCapped } from '../frame/compression.js';
import type { FrameView } from '../frame/decoder.js';
import { decodePublish, decodePuback, decodeSeqPosition, decodeU32 } from '../frame/payloads.js';
import { MeshError } from '../errors.js';
import type { MeshLink } from '../link/mesh-link.js';
import { newSequencerCounters, type SequencerCounters } from './counters.js';
import type { SequencerHost, SequencerSettings } from './host.js';
import { OwnerView } from './owner-view.js';
import { PublishCredits } from './publish-credits.js';
import { PublishPump } from './publish-pump.js';
import { Stamper } from './stamper.js';
import { TopicClaims } from './topic-claims.js';
import { TopicTable, type Stamp } from './topic-state.js';

/**
 * The per-topic sequencer of MESH.md §E.a with the PUBLISH credit rules of §E.b, as the member sees
 * it: routes publishes to the topic's owner (PublishPump), stamps and fans out what this member owns
 * (Stamper), claims and hands over ownership (TopicClaims).
 */
export class Sequencer {
  readonly counters: SequencerCounters = newSequencerCounters();
  readonly topics: TopicTable;
  private readonly view: OwnerView;
  private readonly credits: PublishCredits;
  private readonly claims: TopicClaims;
  private readonly pump: PublishPump;

  constructor(host: SequencerHost, s: SequencerSettings) {
    this.topics = new TopicTable(s.maxTopics);
    this.view = new OwnerView(host);
    this.credits = new PublishCredits(s);
    this.claims = new TopicClaims(host, s, this.topics, this.view, this.counters, (ts) => this.pump.pump(ts));
    const stamper = new Stamper(host, this.view, this.counters);
    this.pump = new PublishPump(host, s, this.topics, this.view, stamper, this.credits, this.counters, (ts) => this.claims.start(ts));
  }

  /** PUBLISH frames sent and not yet credited, all links. */
  get creditsOutstanding(): number {
    return this.credits.outstanding;
  }

  get blockedTopics(): number {
    return this.pump.blockedTopics;
  }

  get claimsInProgress(): number {
    return this.claims.inProgress;
  }

  ownerOf(topic: string): string {
    const ts = this.topics.peek(topic);
    return ts === undefined ? this.view.compute(topic) : this.view.ownerOf(ts);
  }

  /** `publish` without a promise: the stamp when sequenced at once, else null (see PublishPump). */
  publishNow(topic: string, body: Buffer): Stamp | null {
    return this.pump.publishNow(topic, body);
  }

  /** A local publish (§E.a "Publishing"); resolves with the stamp once sequenced (§E.b.3 pacing). */
  publish(topic: string, body: Buffer): Promise<Stamp> {
    return this.pump.publish(topic, body);
  }

  onLinkOpen(link: MeshLink): void {
    if (!link.has(Cap.SEQUENCER)) return;
    this.credits.open(link);
    this.claims.linkOpened(link);
  }

  /** The view of the mesh has settled (membership/settled-view.ts): waiting claims go ahead. */
  onMembershipSettled(): void {
    this.claims.onMembershipSettled();
  }

  /** §E.b.7 and §E.a step 3: re-send what the link never credited, stop waiting for its answers. */
  onLinkClosed(link: MeshLink): void {
    this.claims.linkClosed(link);
    const unanswered = this.credits.close(link);
    if (unanswered === null) return;
    this.pump.requeue(unanswered);
    this.onViewChange();
  }

  onLinkWritable(): void {
    this.pump.pumpBlocked();
  }

  /** The candidate set changed: demote topics we no longer own, re-route what waits. */
  onViewChange(): void {
    for (const ts of this.topics.values()) {
      if (ts.role === 'owner' && !this.view.ownedHere(ts)) ts.role = 'none';
      if (ts.pending.length > 0) this.pump.pump(ts);
    }
  }

  /** Receiving a MSG with a trailer (§E.a): remember T's last position and who stamped it. */
  onStampedMsg(topic: string, epoch: number, offset: number, stamper: string): void {
    this.topics.get(topic).noteLast(epoch, offset, stamper);
  }

  /** PUBLISH, PUBACK, SEQ_CLAIM, SEQ_POSITION and CREDIT from a SEQUENCER link; malformed ones close it. */
  onFrame(link: MeshLink, view: FrameView, topic: string): void {
    const raw = view.payload();
    switch (view.type) {
      case FrameType.PUBLISH: {
        const wire = Buffer.from(raw);
        const plain = (view.flags & Flag.COMPRESSED) !== 0 ? decompressCapped(wire) : wire;
        const p = plain === null ? null : decodePublish(plain);
        if (p === null) return link.close('bad-publish');
        return this.pump.onPublish(link, view.flags, topic, p.cid, p.body, wire);
      }
      case FrameType.PUBACK: {
        const ack = decodePuback(raw);
        if (ack === null) return link.close('bad-puback');
        return this.pump.onPuback(ack);
      }
      case FrameType.SEQ_CLAIM: {
        const id = decodeU32(raw);
        if (id === null) return link.close('bad-claim');
        return this.claims.onSeqClaim(link, topic, id);
      }
      case FrameType.SEQ_POSITION: {
        const pos = decodeSeqPosition(raw);
        if (pos === null) return link.close('bad-position');
        return this.claims.onSeqPosition(link, topic, pos);
      }
      case FrameType.CREDIT: {
        const n = decodeU32(raw);
        if (n === null) return link.close('bad-credit');
        return this.pump.onCredit(link, n);
      }
    }
  }

  /** Graceful exit (§E.a): stop sequencing and hand every held topic to its next owner. */
  drain(): void {
    this.claims.handOverAll();
    this.onViewChange();
  }

  stop(): void {
    const err = new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped');
    this.pump.stop(err);
    this.claims.stop();
    this.credits.stop(err);
  }
}
