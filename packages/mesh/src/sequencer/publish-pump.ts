import { Flag, FrameType, HEADER_LEN } from '../frame/constants.js';
import { encodePublish, encodePuback, PUBACK_OK, PUBACK_REJECTED, type Puback } from '../frame/payloads.js';
import { MeshError } from '../errors.js';
import type { MeshLink } from '../link/mesh-link.js';
import { invalidBody, oversize, validateBody } from './body-check.js';
import type { SequencerCounters } from './counters.js';
import type { SequencerHost, SequencerSettings } from './host.js';
import type { OwnerView } from './owner-view.js';
import type { PublishCredits } from './publish-credits.js';
import type { Stamper } from './stamper.js';
import type { PendingPublish, Stamp, TopicState, TopicTable } from './topic-state.js';

/**
 * The publish path of §E.a with the pacing of §E.b: local publishes and received PUBLISH frames
 * wait in their topic's queue until this member sequences them (it owns T), sends them to the owner,
 * or bounces them (it does not); PUBACK, bounces and CREDIT come back here.
 */
export class PublishPump {
  private stopped = false;
  private nextCid = 1;
  /** Topics waiting for a full link or a credit window. */
  private readonly blocked = new Set<TopicState>();

  constructor(
    private readonly host: SequencerHost,
    private readonly s: SequencerSettings,
    private readonly topics: TopicTable,
    private readonly view: OwnerView,
    private readonly stamper: Stamper,
    private readonly credits: PublishCredits,
    private readonly counters: SequencerCounters,
    /** Starts a claim: this member owns T in its view but does not sequence it yet. */
    private readonly claim: (ts: TopicState) => void,
  ) {}

  get blockedTopics(): number {
    return this.blocked.size;
  }

  /**
   * The synchronous fast path of `publish`: when this member owns T, nothing for T waits and no
   * target link is above its high-water mark, sequences the message now and returns its stamp.
   * Otherwise returns null and does nothing; `publish` then queues it behind what waits (§E.b.3).
   * Throws a MeshError for an invalid or oversize body.
   */
  publishNow(topic: string, body: Buffer): Stamp | null {
    if (this.stopped) throw new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped');
    if (topic.length === 0) throw invalidBody(topic, 'topic must not be empty');
    const ts = this.topics.get(topic);
    const err = validateBody(ts.nameBytes.length, body, topic);
    if (err !== null) throw err;
    if (ts.pending.length > 0 || ts.role !== 'owner' || !this.view.ownedHere(ts) || this.view.targetsFull(ts)) return null;
    const stamp = this.stamper.sequence(ts, body);
    if (stamp === null) throw oversize(topic);
    return stamp;
  }

  /** A local publish (§E.a "Publishing"); resolves with the stamp once sequenced (§E.b.3 pacing). */
  publish(topic: string, body: Buffer): Promise<Stamp> {
    let stamp: Stamp | null;
    try {
      stamp = this.publishNow(topic, body);
    } catch (err) {
      return Promise.reject(err);
    }
    if (stamp !== null) return Promise.resolve(stamp);
    const ts = this.topics.get(topic);
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

  /** PUBLISH received (§E.a). `body`/`cid` are decoded; `wire` is the payload as received. */
  onPublish(link: MeshLink, flags: number, topic: string, cid: string, body: Buffer, wire: Buffer): void {
    if ((flags & Flag.BOUNCED) !== 0) return this.onBounced(topic, cid);
    const token = this.credits.arrive(link);
    if (token === null) return;
    this.counters.publishesReceived++;
    const item: PendingPublish = {
      topic,
      body,
      cid,
      size: HEADER_LEN + Buffer.byteLength(topic) + wire.length,
      origin: link,
      token,
      wire,
      wireFlags: flags,
      resolve: null,
      reject: null,
    };
    const ts = this.topics.get(topic);
    if (ts.role === 'none' && !this.view.ownedHere(ts)) return this.bounce(item);
    ts.pending.push(item);
    this.pump(ts);
  }

  onPuback(ack: Puback): void {
    const sp = this.credits.settle(ack.cid);
    if (sp === undefined) {
      if (ack.status === PUBACK_REJECTED) this.counters.rejectedReceived++;
      return;
    }
    if (ack.status === PUBACK_OK) sp.item.resolve?.({ epoch: ack.epoch, offset: ack.offset });
    else {
      this.counters.rejectedReceived++;
      sp.item.reject?.(new MeshError('WSE_ERR_MESH_PUBLISH_REJECTED', `owner rejected publish to ${ack.cid}`, { topic: sp.item.topic }));
    }
  }

  onCredit(link: MeshLink, n: number): void {
    this.credits.release(link, n);
    this.pumpBlocked();
  }

  /** §E.b.7: publishes a closed link never credited go back to the head of their queues, in order. */
  requeue(items: PendingPublish[]): void {
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i]!;
      const ts = this.topics.get(item.topic);
      ts.pending.unshift(item);
      ts.bouncedAhead++;
      this.counters.resent++;
    }
  }

  /** Moves `ts.pending` forward as far as ownership, claims, credit and high-water marks allow. */
  pump(ts: TopicState): void {
    while (ts.pending.length > 0 && ts.retryTimer === null && !this.stopped) {
      const head = ts.pending[0]!;
      if (head.origin !== null && head.origin.state === 'closed') {
        // The originator re-sends whatever was not credited (§E.b.7).
        ts.shift();
        this.counters.droppedOriginGone++;
        continue;
      }
      const owner = this.view.ownerOf(ts);
      if (ts.role === 'claiming') return;
      if (owner === this.host.selfId) {
        if (ts.role !== 'owner') {
          this.claim(ts);
          continue;
        }
        if (this.view.targetsFull(ts)) return this.block(ts);
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

  pumpBlocked(): void {
    if (this.blocked.size === 0) return;
    const list = [...this.blocked];
    this.blocked.clear();
    for (const ts of list) this.pump(ts);
  }

  /** Rejects everything still waiting; later publishes are refused. */
  stop(err: Error): void {
    this.stopped = true;
    for (const ts of this.topics.values()) {
      if (ts.retryTimer !== null) clearTimeout(ts.retryTimer);
      ts.retryTimer = null;
      for (const item of ts.pending.splice(0)) item.reject?.(err);
    }
  }

  private block(ts: TopicState): void {
    this.blocked.add(ts);
  }

  /** Sends a local publish as PUBLISH to the owner (or to the claimant that took T from us). */
  private forward(ts: TopicState, item: PendingPublish, owner: string): boolean {
    let to = owner;
    if (ts.routeTo !== '' && ts.routeGen === this.host.viewGen() && this.host.linkTo(ts.routeTo) !== undefined) to = ts.routeTo;
    const link = this.host.linkTo(to);
    if (link === undefined || !this.credits.reserve(link, to, item)) return false;
    link.send(FrameType.PUBLISH, 0, ts.nameBytes, encodePublish(item.cid, item.body));
    this.counters.publishesSent++;
    return true;
  }

  private finishSequenced(item: PendingPublish, ts: TopicState): void {
    const origin = item.origin;
    if (origin !== null && validateBody(ts.nameBytes.length, item.body, ts.name) !== null) return this.rejectRemote(item);
    const stamp = this.stamper.sequence(ts, item.body);
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
    this.credits.finish(origin, item.token);
  }

  private rejectRemote(item: PendingPublish): void {
    const origin = item.origin!;
    this.counters.rejectedSent++;
    // §E.a: a rejection is sent even when cid_len is 0.
    origin.send(FrameType.PUBACK, 0, Buffer.from(item.topic), encodePuback({ cid: item.cid, status: PUBACK_REJECTED, epoch: 0, offset: 0 }));
    this.credits.finish(origin, item.token);
  }

  /** §E.a: return the identical frame with BOUNCED set; it counts as finished for CREDIT. */
  private bounce(item: PendingPublish): void {
    const origin = item.origin!;
    this.counters.bouncesSent++;
    origin.send(FrameType.PUBLISH, item.wireFlags | Flag.BOUNCED, Buffer.from(item.topic), item.wire);
    this.credits.finish(origin, item.token);
  }

  /** The originator's side of a bounce: re-send ahead of newer frames for T, now or after 50 ms. */
  private onBounced(topic: string, cid: string): void {
    this.counters.bouncesReceived++;
    const sp = this.credits.settle(cid);
    if (sp === undefined) return;
    const ts = this.topics.get(topic);
    ts.enqueueBounced(sp.item);
    if (this.view.ownerOf(ts) !== sp.sentTo || ts.retryTimer !== null) return this.pump(ts);
    ts.retryTimer = setTimeout(() => {
      ts.retryTimer = null;
      ts.ownerGen = -1;
      this.pump(ts);
    }, this.s.bounceRetryMs);
  }
}
