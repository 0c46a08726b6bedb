import { FrameType } from '../frame/constants.js';
import { encodeSeqPosition, encodeU32, POS_HAS_POSITION, POS_RELINQUISHED, type SeqPosition } from '../frame/payloads.js';
import type { MeshLink } from '../link/mesh-link.js';
import { bestPosition, Claim, newEpoch } from './claim.js';
import type { SequencerCounters } from './counters.js';
import type { SequencerHost, SequencerSettings } from './host.js';
import type { OwnerView } from './owner-view.js';
import type { TopicState, TopicTable } from './topic-state.js';

/**
 * Ownership changes of §E.a: this member's claims (SEQ_CLAIM out, SEQ_POSITION answers in, then
 * continue a handed-over position or start a new epoch), its answers to other members' claims, and
 * the unsolicited hand-over of a draining member.
 */
export class TopicClaims {
  private readonly claims = new Map<string, Claim>();
  private nextClaimId = 1;
  private settleQueued = false;

  constructor(
    private readonly host: SequencerHost,
    private readonly s: SequencerSettings,
    private readonly topics: TopicTable,
    private readonly view: OwnerView,
    private readonly counters: SequencerCounters,
    /** Moves T's queue on once its ownership is decided. */
    private readonly resume: (ts: TopicState) => void,
  ) {}

  get inProgress(): number {
    return this.claims.size;
  }

  /**
   * §E.a step 1. SEQ_CLAIM goes only to candidates this member is linked to, so it first waits for
   * its view of the mesh to settle: a member that has just started (or restarted with a new id)
   * links the mesh one peer at a time, and the peers it has linked already route T to it. A claim
   * sent then would miss the live owner, which would keep its position and leave the claimant to
   * start a new epoch. The wait is bounded by `claimSettleMs`.
   */
  start(ts: TopicState): void {
    this.counters.claims++;
    const id = this.nextClaimId;
    this.nextClaimId = this.nextClaimId >= 0xffffffff ? 1 : this.nextClaimId + 1;
    const claim = new Claim(id, ts.name);
    ts.role = 'claiming';
    ts.claimId = id;
    this.claims.set(ts.name, claim);
    if (this.host.membershipSettled()) return this.ask(claim);
    claim.timer = setTimeout(() => {
      this.counters.claimSettleTimeouts++;
      this.ask(claim);
    }, this.s.claimSettleMs);
  }

  /** The view of the mesh has settled: claims that waited for it go ahead. */
  onMembershipSettled(): void {
    if (this.settleQueued || this.claims.size === 0) return;
    this.settleQueued = true;
    // This may be reported from inside a link's opening, before the member has updated its view:
    // act once that event is done, so the owner is computed over the new view.
    queueMicrotask(() => {
      this.settleQueued = false;
      for (const claim of [...this.claims.values()]) if (claim.phase === 'settling' && this.host.membershipSettled()) this.ask(claim);
    });
  }

  /** A candidate that appears while a claim waits for answers is asked too: it may hold the topic. */
  linkOpened(link: MeshLink): void {
    for (const claim of this.claims.values()) {
      if (claim.phase !== 'asking' || link.peerDraining) continue;
      claim.waiting.add(link);
      link.send(FrameType.SEQ_CLAIM, 0, this.topics.get(claim.topic).nameBytes, encodeU32(claim.id));
    }
  }

  /** §E.a step 3: a closed link is an answer no longer waited for. */
  linkClosed(link: MeshLink): void {
    for (const claim of this.claims.values()) {
      if (claim.waiting.delete(link) && claim.waiting.size === 0) this.resolve(claim);
    }
  }

  /** §E.a step 2: a candidate receiving SEQ_CLAIM. */
  onSeqClaim(link: MeshLink, topic: string, claimId: number): void {
    const ts = this.topics.get(topic);
    let reply: SeqPosition;
    if (ts.role === 'owner' || (ts.role === 'none' && ts.holds)) {
      ts.role = 'none';
      ts.relinquished = true;
      ts.routeTo = link.peerId;
      ts.routeGen = this.host.viewGen();
      reply = { claimId, flags: POS_HAS_POSITION | POS_RELINQUISHED, epoch: ts.seqEpoch, offset: ts.seqOffset, stamper: this.host.selfId };
    } else if (ts.last !== null) {
      reply = { claimId, flags: POS_HAS_POSITION, ...ts.last };
    } else reply = { claimId, flags: 0, epoch: 0, offset: 0, stamper: '' };
    link.send(FrameType.SEQ_POSITION, 0, ts.nameBytes, encodeSeqPosition(reply));
    if (ts.pending.length > 0) this.resume(ts);
  }

  /** SEQ_POSITION from `link`: an answer to our claim, or an unsolicited hand-over (claim id 0). */
  onSeqPosition(link: MeshLink, topic: string, pos: SeqPosition): void {
    const relinquished = (pos.flags & POS_RELINQUISHED) !== 0 && (pos.flags & POS_HAS_POSITION) !== 0;
    const position = { epoch: pos.epoch, offset: pos.offset, stamper: pos.stamper };
    if (pos.claimId === 0) {
      if (!relinquished) return;
      const ts = this.topics.get(topic);
      ts.handover = position;
      ts.handoverAt = Date.now();
      return;
    }
    const claim = this.claims.get(topic);
    if (claim === undefined || claim.id !== pos.claimId) return;
    if (relinquished) claim.relinquished.push(position);
    if (claim.waiting.delete(link) && claim.waiting.size === 0) this.resolve(claim);
  }

  /** Graceful exit (§E.a): stop sequencing and hand every held topic to its next owner. */
  handOverAll(): void {
    const self = this.host.selfId;
    for (const ts of this.topics.values()) {
      if (ts.role === 'claiming') continue;
      if (ts.role !== 'owner' && !ts.holds) continue;
      ts.role = 'none';
      const next = this.view.compute(ts.name);
      const link = next === self ? undefined : this.host.linkTo(next);
      if (link === undefined) continue;
      ts.relinquished = true;
      const pos: SeqPosition = { claimId: 0, flags: POS_HAS_POSITION | POS_RELINQUISHED, epoch: ts.seqEpoch, offset: ts.seqOffset, stamper: self };
      link.send(FrameType.SEQ_POSITION, 0, ts.nameBytes, encodeSeqPosition(pos));
    }
  }

  stop(): void {
    for (const claim of this.claims.values()) if (claim.timer !== null) clearTimeout(claim.timer);
    this.claims.clear();
  }

  /** §E.a steps 1–3 over the settled view; with no other candidate the claim resolves at once. */
  private ask(claim: Claim): void {
    if (this.claims.get(claim.topic) !== claim || claim.phase !== 'settling') return;
    if (claim.timer !== null) clearTimeout(claim.timer);
    claim.timer = null;
    const ts = this.topics.get(claim.topic);
    if (!this.view.ownedHere(ts)) {
      // The members found while settling include one that outranks us: T is not ours to claim.
      this.claims.delete(claim.topic);
      ts.role = 'none';
      return this.resume(ts);
    }
    claim.phase = 'asking';
    const links = this.host.candidateLinks();
    if (links.length === 0) return this.resolve(claim);
    const payload = encodeU32(claim.id);
    for (const link of links) {
      claim.waiting.add(link);
      link.send(FrameType.SEQ_CLAIM, 0, ts.nameBytes, payload);
    }
    claim.timer = setTimeout(() => {
      this.counters.claimTimeouts++;
      this.resolve(claim);
    }, this.s.claimTimeoutMs);
  }

  /** §E.a step 4, then step 5 (sequence what waited). */
  private resolve(claim: Claim): void {
    if (this.claims.get(claim.topic) !== claim) return;
    this.claims.delete(claim.topic);
    if (claim.timer !== null) clearTimeout(claim.timer);
    const ts = this.topics.get(claim.topic);
    const handed = [...claim.relinquished];
    if (ts.handover !== null && Date.now() - ts.handoverAt <= this.s.handoverTtlMs) handed.push(ts.handover);
    const best = bestPosition(handed);
    if (best !== null) {
      ts.seqEpoch = best.epoch;
      ts.seqOffset = best.offset;
      this.counters.continuedHandovers++;
    } else if (!ts.holds) {
      ts.seqEpoch = newEpoch(ts.epochs);
      ts.seqOffset = -1;
      this.counters.newEpochs++;
    }
    ts.recordEpoch(ts.seqEpoch);
    ts.handover = null;
    ts.relinquished = false;
    ts.routeTo = '';
    ts.role = 'owner';
    this.resume(ts);
  }
}
