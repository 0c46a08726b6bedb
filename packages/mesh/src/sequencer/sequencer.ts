import { COMPRESS_MIN, Cap, Flag, FrameType, HEADER_LEN, MAX_FRAME, MAX_TOPIC_BYTES, TRAILER_LEN } from '../frame/constants.js';
import { decompressCapped, maybeCompress } from '../frame/compression.js';
import type { FrameView } from '../frame/decoder.js';
import { copyRecords, encodeMsg } from '../frame/encoder.js';
import {
  decodePublish,
  decodePuback,
  decodeSeqPosition,
  decodeU32,
  encodePublish,
  encodePuback,
  encodeSeqPosition,
  encodeU32,
  POS_HAS_POSITION,
  POS_RELINQUISHED,
  PUBACK_OK,
  PUBACK_REJECTED,
  type Puback,
  type SeqPosition,
} from '../frame/payloads.js';
import { MeshError } from '../errors.js';
import { CreditReturn } from '../flow/credit-return.js';
import { CreditWindow } from '../flow/credit-window.js';
import type { MeshLink } from '../link/mesh-link.js';
import { bestPosition, Claim, newEpoch } from './claim.js';
import { pickOwner } from './rendezvous.js';
import { fitsAfterStamp, isJsonObjectText, weaveStamp } from './stamp.js';
import { TopicTable, type PendingPublish, type Stamp, type TopicState } from './topic-state.js';

export interface SequencerHost {
  readonly selfId: string;
  /** Bumped whenever the candidate set changes. */
  viewGen(): number;
  /** Bumped whenever a link opens/closes or a peer's interest changes. */
  routeGen(): number;
  /** Instance ids of the current candidates, this member included when it is one. */
  candidates(): string[];
  /** Open links to the other candidates. */
  candidateLinks(): MeshLink[];
  /** This member's view of the mesh has settled (membership/settled-view.ts). */
  membershipSettled(): boolean;
  linkTo(instanceId: string): MeshLink | undefined;
  /** Open links that want MSGs for `topic` (§6 forwarding decision). */
  fanoutTargets(topic: string): MeshLink[];
  deliver(topic: string, stamped: Buffer, epoch: number, offset: number, origin: string): void;
}

export interface SequencerSettings {
  claimSettleMs: number;
  claimTimeoutMs: number;
  bounceRetryMs: number;
  handoverTtlMs: number;
  creditFrames: number;
  creditBytes: number;
  creditFlushMs: number;
  maxTopics: number;
}

export interface SequencerCounters {
  sequenced: number;
  publishesSent: number;
  publishesReceived: number;
  rejectedSent: number;
  rejectedReceived: number;
  bouncesSent: number;
  bouncesReceived: number;
  claims: number;
  claimSettleTimeouts: number;
  claimTimeouts: number;
  newEpochs: number;
  continuedHandovers: number;
  resent: number;
  droppedOriginGone: number;
}

interface SentPublish {
  item: PendingPublish;
  size: number;
  settled: boolean;
  sentTo: string;
}

interface LinkSeq {
  window: CreditWindow<SentPublish>;
  credits: CreditReturn;
}

/**
 * The per-topic sequencer of MESH.md §E.a with the PUBLISH credit rules of §E.b: routes publishes to
 * the topic's owner, stamps and fans out what this member owns, claims and hands over ownership.
 */
export class Sequencer {
  readonly counters: SequencerCounters = {
    sequenced: 0,
    publishesSent: 0,
    publishesReceived: 0,
    rejectedSent: 0,
    rejectedReceived: 0,
    bouncesSent: 0,
    bouncesReceived: 0,
    claims: 0,
    claimSettleTimeouts: 0,
    claimTimeouts: 0,
    newEpochs: 0,
    continuedHandovers: 0,
    resent: 0,
    droppedOriginGone: 0,
  };
  readonly topics: TopicTable;
  draining = false;
  private stopped = false;
  private readonly claims = new Map<string, Claim>();
  private nextClaimId = 1;
  private settleQueued = false;
  private nextCid = 1;
  private readonly sentByCid = new Map<string, SentPublish>();
  private readonly perLink = new Map<MeshLink, LinkSeq>();
  private readonly blocked = new Set<TopicState>();

  constructor(
    private readonly host: SequencerHost,
    private readonly s: SequencerSettings,
  ) {
    this.topics = new TopicTable(s.maxTopics);
  }

  /** PUBLISH frames sent and not yet credited, all links. */
  get creditsOutstanding(): number {
    let n = 0;
    for (const ls of this.perLink.values()) n += ls.window.frames;
    return n;
  }

  get blockedTopics(): number {
    return this.blocked.size;
  }

  get claimsInProgress(): number {
    return this.claims.size;
  }

  ownerOf(topic: string): string {
    const ts = this.topics.peek(topic);
    return ts === undefined ? this.computeOwner(topic) : this.owner(ts);
  }

  /** A local publish (§E.a "Publishing"); resolves with the stamp once sequenced (§E.b.3 pacing). */
  publish(topic: string, body: Buffer): Promise<Stamp> {
    if (this.stopped) return Promise.reject(new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped'));
    if (topic.length === 0) return Promise.reject(invalid(topic, 'topic must not be empty'));
    const ts = this.topics.get(topic);
    const err = validateBody(ts.nameBytes.length, body, topic);
    if (err !== null) return Promise.reject(err);
    if (ts.pending.length === 0 && ts.role === 'owner' && this.owner(ts) === this.host.selfId && !this.targetsFull(ts)) {
      const stamp = this.sequence(ts, body);
      return stamp === null ? Promise.reject(oversize(topic)) : Promise.resolve(stamp);
    }
    return new Promise<Stamp>((resolve, reject) => {
      const cid = (this.nextCid++).toString(36);
      ts.pending.push({
        topic,
        body,
        cid,
        size: HEADER_LEN + ts.nameBytes.length + 2 + Buffer.byteLength(cid) + body.length,
        origin: null,
        token: 0,
        wire: null,
        wireFlags: 0,
        resolve,
        reject,
      });
      this.pump(ts);
    });
  }

  onLinkOpen(link: MeshLink): void {
    if (!link.has(Cap.SEQUENCER)) return;
    const credits = new CreditReturn(Math.max(1, this.s.creditFrames >> 2), this.s.creditFlushMs, (n) =>
      link.send(FrameType.CREDIT, 0, null, encodeU32(n)),
    );
    this.perLink.set(link, { window: new CreditWindow(this.s.creditFrames, this.s.creditBytes), credits });
    // A candidate that appears while a claim waits for answers is asked too: it may hold the topic.
    for (const claim of this.claims.values()) {
      if (claim.phase !== 'asking' || link.peerDraining) continue;
      claim.waiting.add(link);
      link.send(FrameType.SEQ_CLAIM, 0, this.topics.get(claim.topic).nameBytes, encodeU32(claim.id));
    }
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

  /** §E.b.7 and §E.a step 3: re-send what the link never credited, stop waiting for its answers. */
  onLinkClosed(link: MeshLink): void {
    const ls = this.perLink.get(link);
    this.perLink.delete(link);
    for (const claim of this.claims.values()) {
      if (claim.waiting.delete(link) && claim.waiting.size === 0) this.resolveClaim(claim);
    }
    if (ls === undefined) return;
    ls.credits.close();
    const resend = ls.window.drain().filter((sp) => !sp.settled);
    for (let i = resend.length - 1; i >= 0; i--) {
      const sp = resend[i]!;
      this.sentByCid.delete(sp.item.cid);
      const ts = this.topics.get(sp.item.topic);
      ts.pending.unshift(sp.item);
      ts.bouncedAhead++;
      this.counters.resent++;
    }
    this.onViewChange();
  }

  onLinkWritable(): void {
    this.pumpBlocked();
  }

  /** The candidate set changed: demote topics we no longer own, re-route what waits. */
  onViewChange(): void {
    for (const ts of this.topics.values()) {
      if (ts.role === 'owner' && this.owner(ts) !== this.host.selfId) ts.role = 'none';
      if (ts.pending.length > 0) this.pump(ts);
    }
  }

  /** Receiving a MSG with a trailer (§E.a): remember T's last position and who stamped it. */
  onStampedMsg(topic: string, epoch: number, offset: number, stamper: string): void {
    const ts = this.topics.get(topic);
    const last = ts.last;
    if (last === null) ts.last = { epoch, offset, stamper };
    else {
      last.epoch = epoch;
      last.offset = offset;
      last.stamper = stamper;
    }
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
        return this.onPublish(link, view.flags, topic, p.cid, p.body, wire);
      }
      case FrameType.PUBACK: {
        const ack = decodePuback(raw);
        if (ack === null) return link.close('bad-puback');
        return this.onPuback(ack);
      }
      case FrameType.SEQ_CLAIM: {
        const id = decodeU32(raw);
        if (id === null) return link.close('bad-claim');
        return this.onSeqClaim(link, topic, id);
      }
      case FrameType.SEQ_POSITION: {
        const pos = decodeSeqPosition(raw);
        if (pos === null) return link.close('bad-position');
        return this.onSeqPosition(link, topic, pos);
      }
      case FrameType.CREDIT: {
        const n = decodeU32(raw);
        if (n === null) return link.close('bad-credit');
        return this.onCredit(link, n);
      }
    }
  }

  /** PUBLISH received (§E.a). `body`/`cid` are decoded; `wire` is the payload as received. */
  private onPublish(link: MeshLink, flags: number, topic: string, cid: string, body: Buffer, wire: Buffer): void {
    if ((flags & Flag.BOUNCED) !== 0) return this.onBounced(topic, cid);
    const ls = this.perLink.get(link);
    if (ls === undefined) return;
    this.counters.publishesReceived++;
    const item: PendingPublish = {
      topic,
      body,
      cid,
      size: HEADER_LEN + Buffer.byteLength(topic) + wire.length,
      origin: link,
      token: ls.credits.arrive(),
      wire,
      wireFlags: flags,
      resolve: null,
      reject: null,
    };
    const ts = this.topics.get(topic);
    if (ts.role === 'none' && this.owner(ts) !== this.host.selfId) return this.bounce(item);
    ts.pending.push(item);
    this.pump(ts);
  }

  private onPuback(ack: Puback): void {
    const sp = this.sentByCid.get(ack.cid);
    if (sp === undefined) {
      if (ack.status === PUBACK_REJECTED) this.counters.rejectedReceived++;
      return;
    }
    this.sentByCid.delete(ack.cid);
    sp.settled = true;
    if (ack.status === PUBACK_OK) sp.item.resolve?.({ epoch: ack.epoch, offset: ack.offset });
    else {
      this.counters.rejectedReceived++;
      sp.item.reject?.(new MeshError('WSE_ERR_MESH_PUBLISH_REJECTED', `owner rejected publish to ${ack.cid}`, { topic: sp.item.topic }));
    }
  }

  private onCredit(link: MeshLink, n: number): void {
    this.perLink.get(link)?.window.release(n);
    this.pumpBlocked();
  }

  /** §E.a step 2: a candidate receiving SEQ_CLAIM. */
  private onSeqClaim(link: MeshLink, topic: string, claimId: number): void {
    const ts = this.topics.get(topic);
    const self = this.host.selfId;
    let reply: SeqPosition;
    if (ts.role === 'owner' || (ts.role === 'none' && ts.holds)) {
      ts.role = 'none';
      ts.relinquished = true;
      ts.routeTo = link.peerId;
      ts.routeGen = this.host.viewGen();
      reply = { claimId, flags: POS_HAS_POSITION | POS_RELINQUISHED, epoch: ts.seqEpoch, offset: ts.seqOffset, stamper: self };
    } else if (ts.last !== null) {
      reply = { claimId, flags: POS_HAS_POSITION, ...ts.last };
    } else reply = { claimId, flags: 0, epoch: 0, offset: 0, stamper: '' };
    link.send(FrameType.SEQ_POSITION, 0, ts.nameBytes, encodeSeqPosition(reply));
    if (ts.pending.length > 0) this.pump(ts);
  }

  /** SEQ_POSITION from `link`: an answer to our claim, or an unsolicited hand-over (claim id 0). */
  private onSeqPosition(link: MeshLink, topic: string, pos: SeqPosition): void {
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
    if (claim.waiting.delete(link) && claim.waiting.size === 0) this.resolveClaim(claim);
  }

  /** Graceful exit (§E.a): stop sequencing and hand every held topic to its next owner. */
  drain(): void {
    this.draining = true;
    const self = this.host.selfId;
    for (const ts of this.topics.values()) {
      if (ts.role === 'claiming') continue;
      if (ts.role === 'owner' || ts.holds) {
        ts.role = 'none';
        const next = this.computeOwner(ts.name);
        const link = next === self ? undefined : this.host.linkTo(next);
        if (link === undefined) continue;
        ts.relinquished = true;
        const pos: SeqPosition = { claimId: 0, flags: POS_HAS_POSITION | POS_RELINQUISHED, epoch: ts.seqEpoch, offset: ts.seqOffset, stamper: self };
        link.send(FrameType.SEQ_POSITION, 0, ts.nameBytes, encodeSeqPosition(pos));
      }
    }
    this.onViewChange();
  }

  stop(): void {
    this.stopped = true;
    const err = new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped');
    for (const claim of this.claims.values()) if (claim.timer !== null) clearTimeout(claim.timer);
    this.claims.clear();
    for (const ts of this.topics.values()) {
      if (ts.retryTimer !== null) clearTimeout(ts.retryTimer);
      ts.retryTimer = null;
      for (const item of ts.pending.splice(0)) item.reject?.(err);
    }
    for (const sp of this.sentByCid.values()) sp.item.reject?.(err);
    this.sentByCid.clear();
    for (const ls of this.perLink.values()) ls.credits.close();
  }

  private computeOwner(topic: string): string {
    return pickOwner(topic, this.host.candidates());
  }

  private owner(ts: TopicState): string {
    const gen = this.host.viewGen();
    if (ts.ownerGen !== gen) {
      ts.owner = this.computeOwner(ts.name);
      ts.ownerGen = gen;
    }
    return ts.owner;
  }

  private targets(ts: TopicState): MeshLink[] {
    const gen = this.host.routeGen();
    if (ts.targetsGen !== gen) {
      ts.targets = this.host.fanoutTargets(ts.name);
      ts.targetsGen = gen;
    }
    return ts.targets;
  }

  private targetsFull(ts: TopicState): boolean {
    const targets = this.targets(ts);
    for (let i = 0; i < targets.length; i++) if (targets[i]!.out.full) return true;
    return false;
  }

  /** Moves `ts.pending` forward as far as ownership, claims, credit and high-water marks allow. */
  private pump(ts: TopicState): void {
    const self = this.host.selfId;
    while (ts.pending.length > 0 && ts.retryTimer === null && !this.stopped) {
      const head = ts.pending[0]!;
      if (head.origin !== null && head.origin.state === 'closed') {
        // The originator re-sends whatever was not credited (§E.b.7).
        ts.shift();
        this.counters.droppedOriginGone++;
        continue;
      }
      const owner = this.owner(ts);
      if (ts.role === 'claiming') return;
      if (owner === self) {
        if (ts.role !== 'owner') {
          this.startClaim(ts);
          continue;
        }
        if (this.targetsFull(ts)) return this.block(ts);
        this.finishSequenced(ts.shift(), ts);
        continue;
      }
      if (ts.role === 'owner') ts.role = 'none';
      if (head.origin !== null) {
        this.bounce(ts.shift());
        continue;
      }
      if (!this.forward(ts, head, owner)) return this.block(ts);
      ts.shift();
    }
  }

  private pumpBlocked(): void {
    if (this.blocked.size === 0) return;
    const list = [...this.blocked];
    this.blocked.clear();
    for (const ts of list) this.pump(ts);
  }

  private block(ts: TopicState): void {
    this.blocked.add(ts);
  }

  /** Sends a local publish as PUBLISH to the owner (or to the claimant that took T from us). */
  private forward(ts: TopicState, item: PendingPublish, owner: string): boolean {
    let to = owner;
    if (ts.routeTo !== '' && ts.routeGen === this.host.viewGen() && this.host.linkTo(ts.routeTo) !== undefined) to = ts.routeTo;
    const link = this.host.linkTo(to);
    const ls = link === undefined ? undefined : this.perLink.get(link);
    if (link === undefined || ls === undefined) return false;
    if (link.out.full || !ls.window.canSend(item.size)) return false;
    const sp: SentPublish = { item, size: item.size, settled: false, sentTo: to };
    ls.window.add(sp);
    this.sentByCid.set(item.cid, sp);
    link.send(FrameType.PUBLISH, 0, ts.nameBytes, encodePublish(item.cid, item.body));
    this.counters.publishesSent++;
    return true;
  }

  private finishSequenced(item: PendingPublish, ts: TopicState): void {
    const origin = item.origin;
    if (origin !== null && validateBody(ts.nameBytes.length, item.body, ts.name) !== null) return this.rejectRemote(item);
    const stamp = this.sequence(ts, item.body);
    if (stamp === null) {
      if (origin !== null) return this.rejectRemote(item);
      item.reject?.(oversize(ts.name));
      return;
    }
    if (origin === null) {
      item.resolve?.(stamp);
      return;
    }
    if (item.cid !== '') {
      origin.send(FrameType.PUBACK, 0, ts.nameBytes, encodePuback({ cid: item.cid, status: PUBACK_OK, epoch: stamp.epoch, offset: stamp.offset }));
    }
    this.perLink.get(origin)?.credits.finish(item.token);
  }

  private rejectRemote(item: PendingPublish): void {
    const origin = item.origin!;
    this.counters.rejectedSent++;
    // §E.a: a rejection is sent even when cid_len is 0.
    origin.send(FrameType.PUBACK, 0, Buffer.from(item.topic), encodePuback({ cid: item.cid, status: PUBACK_REJECTED, epoch: 0, offset: 0 }));
    this.perLink.get(origin)?.credits.finish(item.token);
  }

  /** §E.a: return the identical frame with BOUNCED set; it counts as finished for CREDIT. */
  private bounce(item: PendingPublish): void {
    const origin = item.origin!;
    this.counters.bouncesSent++;
    origin.send(FrameType.PUBLISH, item.wireFlags | Flag.BOUNCED, Buffer.from(item.topic), item.wire);
    this.perLink.get(origin)?.credits.finish(item.token);
  }

  /** The originator's side of a bounce: re-send ahead of newer frames for T, now or after 50 ms. */
  private onBounced(topic: string, cid: string): void {
    this.counters.bouncesReceived++;
    const sp = this.sentByCid.get(cid);
    if (sp === undefined || sp.settled) return;
    this.sentByCid.delete(cid);
    sp.settled = true;
    const ts = this.topics.get(topic);
    ts.enqueueBounced(sp.item);
    if (this.owner(ts) !== sp.sentTo || ts.retryTimer !== null) return this.pump(ts);
    ts.retryTimer = setTimeout(() => {
      ts.retryTimer = null;
      ts.ownerGen = -1;
      this.pump(ts);
    }, this.s.bounceRetryMs);
  }

  /**
   * §E.a step 1. SEQ_CLAIM goes only to candidates this member is linked to, so it first waits for
   * its view of the mesh to settle: a member that has just started (or restarted with a new id)
   * links the mesh one peer at a time, and the peers it has linked already route T to it. A claim
   * sent then would miss the live owner, which would keep its position and leave the claimant to
   * start a new epoch. The wait is bounded by `claimSettleMs`.
   */
  private startClaim(ts: TopicState): void {
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

  /** §E.a steps 1–3 over the settled view; with no other candidate the claim resolves at once. */
  private ask(claim: Claim): void {
    if (this.claims.get(claim.topic) !== claim || claim.phase !== 'settling') return;
    if (claim.timer !== null) clearTimeout(claim.timer);
    claim.timer = null;
    const ts = this.topics.get(claim.topic);
    if (this.owner(ts) !== this.host.selfId) {
      // The members found while settling include one that outranks us: T is not ours to claim.
      this.claims.delete(claim.topic);
      ts.role = 'none';
      return this.pump(ts);
    }
    claim.phase = 'asking';
    const links = this.host.candidateLinks();
    if (links.length === 0) return this.resolveClaim(claim);
    const payload = encodeU32(claim.id);
    for (const link of links) {
      claim.waiting.add(link);
      link.send(FrameType.SEQ_CLAIM, 0, ts.nameBytes, payload);
    }
    claim.timer = setTimeout(() => {
      this.counters.claimTimeouts++;
      this.resolveClaim(claim);
    }, this.s.claimTimeoutMs);
  }

  /** §E.a step 4, then step 5 (sequence what waited). */
  private resolveClaim(claim: Claim): void {
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
    if (!this.stopped) this.pump(ts);
  }

  /** §E.a steps 1–5 for one message; null when the stamped MSG would not fit a frame. */
  private sequence(ts: TopicState, body: Buffer): Stamp | null {
    const offset = ts.seqOffset + 1;
    const stamped = weaveStamp(ts.stampHead(), offset, body);
    if (HEADER_LEN + ts.nameBytes.length + stamped.length + TRAILER_LEN > MAX_FRAME) return null;
    const epoch = ts.seqEpoch;
    ts.seqOffset = offset;
    const last = ts.last;
    if (last === null) ts.last = { epoch, offset, stamper: this.host.selfId };
    else {
      last.epoch = epoch;
      last.offset = offset;
      last.stamper = this.host.selfId;
    }
    this.counters.sequenced++;
    this.host.deliver(ts.name, stamped, epoch, offset, this.host.selfId);
    this.fanOut(ts, stamped, epoch, offset);
    return { epoch, offset };
  }

  /**
   * §7 frame variant per link. Each variant is encoded once, straight into the first link that takes
   * it, and copied from there into the others (fan-out cost per link is one small copy).
   */
  private fanOut(ts: TopicState, stamped: Buffer, epoch: number, offset: number): void {
    const targets = this.targets(ts);
    const at = this.variantAt;
    const from = this.variantFrom;
    at.fill(-1);
    let compressed: Buffer | null | undefined;
    for (let i = 0; i < targets.length; i++) {
      const link = targets[i]!;
      let v = link.has(Cap.RECOVERY) ? 2 : 0;
      if (link.has(Cap.COMPRESSION) && stamped.length >= COMPRESS_MIN) {
        if (compressed === undefined) compressed = maybeCompress(stamped);
        if (compressed !== null) v |= 1;
      }
      const out = link.out;
      let size: number;
      if (at[v] === -1) {
        size = encodeMsg(out, ts.nameBytes, (v & 1) !== 0 ? compressed! : stamped, VARIANT_FLAGS[v]!, epoch, offset);
        at[v] = out.end - size;
        from[v] = out.buf;
        this.variantSize[v] = size;
      } else {
        size = this.variantSize[v]!;
        copyRecords(out, from[v]!, at[v]!, at[v]! + size);
      }
      link.countOut(size);
    }
  }

  private readonly variantAt = [-1, -1, -1, -1];
  private readonly variantFrom: (Buffer | null)[] = [null, null, null, null];
  private readonly variantSize = [0, 0, 0, 0];
}

const VARIANT_FLAGS = [0, Flag.COMPRESSED, Flag.HAS_RECOVERY, Flag.HAS_RECOVERY | Flag.COMPRESSED];

function invalid(topic: string, why: string): MeshError {
  return new MeshError('WSE_ERR_MESH_INVALID_BODY', why, { topic });
}

/** §E.a: the originator checks the body before sending. */
function validateBody(topicBytes: number, body: Buffer, topic: string): MeshError | null {
  if (topicBytes > MAX_TOPIC_BYTES) return invalid(topic, 'topic must be at most 65535 bytes');
  if (!isJsonObjectText(body)) return invalid(topic, 'body must be a JSON object');
  if (!fitsAfterStamp(body.length, topicBytes)) return oversize(topic);
  return null;
}

function oversize(topic: string): MeshError {
  return new MeshError('WSE_ERR_MESH_OVERSIZE', 'message does not fit a mesh frame after stamping', { topic });
}
