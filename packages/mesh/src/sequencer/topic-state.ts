import type { MeshLink } from '../link/mesh-link.js';
import { stampHead } from './stamp.js';

export interface Stamp {
  epoch: number;
  offset: number;
}

/** A publish waiting to be sequenced (at the owner) or sent to the owner (at the origin). */
export interface PendingPublish {
  topic: string;
  body: Buffer;
  /** Correlation id: ours for local publishes, the originator's for remote ones ('' = no PUBACK). */
  cid: string;
  /** Inner PUBLISH frame size (credit accounting, §E.b.5). */
  size: number;
  /** null for a local publish; the link it arrived on otherwise. */
  origin: MeshLink | null;
  /** Credit token at the origin link (remote publishes). */
  token: number;
  /** The PUBLISH payload and flags as received, returned unchanged on a bounce (§E.a). */
  wire: Buffer | null;
  wireFlags: number;
  resolve: ((stamp: Stamp) => void) | null;
  reject: ((err: Error) => void) | null;
}

export type TopicRole = 'none' | 'claiming' | 'owner';

export interface Position {
  epoch: number;
  offset: number;
  stamper: string;
}

/** Epochs remembered per topic so a new one differs from every recorded one (§E.a). */
const MAX_EPOCHS = 16;

/** Per-topic sequencer state, MESH.md §E.a. */
export class TopicState {
  readonly nameBytes: Buffer;
  role: TopicRole = 'none';
  /** Our own sequence: the last stamp this member assigned. */
  seqEpoch = 0;
  seqOffset = -1;
  /** The last position this member holds for T, own or seen in a MSG, and who assigned it. */
  last: Position | null = null;
  /** This member relinquished T after last assigning a stamp. */
  relinquished = false;
  /** The latest unsolicited hand-over (claim id 0) and when it arrived. */
  handover: Position | null = null;
  handoverAt = 0;
  readonly epochs: number[] = [];
  claimId = 0;
  /** Claimant that took T from us; our publishes go there until the view changes (§E.a step 2). */
  routeTo = '';
  routeGen = -1;
  readonly pending: PendingPublish[] = [];
  /** How many items at the head of `pending` came back bounced (kept ahead of newer ones). */
  bouncedAhead = 0;
  retryTimer: NodeJS.Timeout | null = null;
  ownerGen = -1;
  owner = '';
  targetsGen = -1;
  targets: MeshLink[] = [];
  private head: Buffer | null = null;
  private headEpoch = -1;

  constructor(readonly name: string) {
    this.nameBytes = Buffer.from(name, 'utf8');
  }

  /** This member assigned the last stamp it holds and has not relinquished T since (§E.a step 4). */
  get holds(): boolean {
    return this.seqOffset >= 0 && !this.relinquished && this.last !== null && this.last.epoch === this.seqEpoch && this.last.offset === this.seqOffset;
  }

  get idle(): boolean {
    return this.role !== 'claiming' && this.pending.length === 0 && this.retryTimer === null;
  }

  stampHead(): Buffer {
    if (this.headEpoch !== this.seqEpoch || this.head === null) {
      this.head = stampHead(this.name, this.seqEpoch);
      this.headEpoch = this.seqEpoch;
    }
    return this.head;
  }

  /** T's last position this member holds, own or seen in a MSG, and who assigned it. */
  noteLast(epoch: number, offset: number, stamper: string): void {
    const last = this.last;
    if (last === null) this.last = { epoch, offset, stamper };
    else {
      // Updated in place: this runs once per message.
      last.epoch = epoch;
      last.offset = offset;
      last.stamper = stamper;
    }
  }

  recordEpoch(epoch: number): void {
    if (this.epochs.includes(epoch)) return;
    this.epochs.push(epoch);
    if (this.epochs.length > MAX_EPOCHS) this.epochs.shift();
  }

  enqueueBounced(item: PendingPublish): void {
    this.pending.splice(this.bouncedAhead++, 0, item);
  }

  shift(): PendingPublish {
    if (this.bouncedAhead > 0) this.bouncedAhead--;
    return this.pending.shift()!;
  }
}

/**
 * Topic states, bounded: past `max` entries the oldest idle ones are evicted. Evicting an owned topic
 * only costs a new epoch the next time it is published (clients re-baseline).
 */
export class TopicTable {
  evicted = 0;
  private readonly map = new Map<string, TopicState>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  peek(topic: string): TopicState | undefined {
    return this.map.get(topic);
  }

  get(topic: string): TopicState {
    let ts = this.map.get(topic);
    if (ts === undefined) {
      if (this.map.size >= this.max) this.evict();
      ts = new TopicState(topic);
      this.map.set(topic, ts);
    }
    return ts;
  }

  /** Topics this member sequences as their owner (one pass; read per scrape, not per message). */
  ownedCount(): number {
    let owned = 0;
    for (const ts of this.map.values()) if (ts.role === 'owner') owned++;
    return owned;
  }

  values(): IterableIterator<TopicState> {
    return this.map.values();
  }

  private evict(): void {
    const want = Math.max(1, this.max >> 4);
    let removed = 0;
    for (const [name, ts] of this.map) {
      if (removed >= want) break;
      if (!ts.idle) continue;
      this.map.delete(name);
      removed++;
    }
    this.evicted += removed;
  }
}
