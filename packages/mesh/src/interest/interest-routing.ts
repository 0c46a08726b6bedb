import { isUtf8 } from 'node:buffer';
import { Cap, Flag, FrameType } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { LinkTable } from '../membership/link-table.js';
import type { MemberCounters } from '../metrics.js';
import { InterestSet } from './interest-set.js';
import { LocalInterest } from './local-interest.js';
import { buildResync, parseResync } from './resync.js';

/**
 * Interest routing, MESH.md §6: tells peers what this member wants (SUB/UNSUB on 0↔1 transitions,
 * RESYNC with the full set) and remembers what each peer wants, which decides where MSGs go.
 */
export class InterestRouting {
  private readonly local = new LocalInterest();

  constructor(
    private readonly links: LinkTable,
    private readonly counters: MemberCounters,
    private readonly resyncIntervalMs: number,
  ) {}

  /** Distinct local topics and globs. */
  get size(): number {
    return this.local.size;
  }

  /** Refcounted: the 0→1 transition sends SUB to every interest-routing link. */
  add(topic: string): void {
    if (this.local.add(topic)) this.sendToAll(FrameType.SUB, topic);
  }

  /** The 1→0 transition sends UNSUB. */
  remove(topic: string): void {
    if (this.local.remove(topic)) this.sendToAll(FrameType.UNSUB, topic);
  }

  /** The full local interest (§4 burst, and every `resyncIntervalMs` after it, §5). */
  sendResync(link: MeshLink, now = Date.now()): void {
    link.resyncAt = now + this.resyncIntervalMs;
    if (!link.has(Cap.INTEREST_ROUTING)) return;
    const { chunks, skipped } = buildResync(this.local.topics());
    this.counters.drops['resync-skipped'] += skipped;
    for (const c of chunks) link.send(FrameType.RESYNC, c.continuation ? Flag.CONTINUATION : 0, null, c.payload);
  }

  onSubUnsub(link: MeshLink, view: FrameView): void {
    const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
    if (topic === null) return link.close('bad-utf8');
    if (link.interest === null) link.interest = new InterestSet();
    if (view.type === FrameType.SUB) link.interest.add(topic);
    else link.interest.remove(topic);
    this.links.routeGen++;
  }

  onResync(link: MeshLink, view: FrameView): void {
    const payload = view.payload();
    if (!isUtf8(payload)) return link.close('bad-utf8');
    // §6 and §12 note 5: flag 0 replaces (also ending a DRAIN's explicit empty set), CONTINUATION extends.
    if ((view.flags & Flag.CONTINUATION) === 0 || link.interest === null) link.interest = new InterestSet();
    for (const t of parseResync(payload)) link.interest.add(t);
    this.links.routeGen++;
  }

  /** §12 note 5: a draining peer gets an explicit empty set (not the forward-everything default). */
  onPeerDrain(link: MeshLink): void {
    link.interest = new InterestSet();
    this.links.routeGen++;
  }

  /** Open links that want MSGs for `topic`. */
  targets(topic: string): MeshLink[] {
    return this.links.list.filter((l) => wants(l, topic));
  }

  private sendToAll(type: number, topic: string): void {
    const t = Buffer.from(topic, 'utf8');
    for (const link of this.links.list) if (link.has(Cap.INTEREST_ROUTING)) link.send(type, 0, t, null);
  }
}

/** §6 forwarding decision, plus §11 DRAIN: a draining peer gets no new MSGs. */
export function wants(link: MeshLink, topic: string): boolean {
  if (link.peerDraining) return false;
  return link.interest === null || link.interest.matches(topic);
}
