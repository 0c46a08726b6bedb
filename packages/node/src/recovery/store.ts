/**
 * Per-topic recovery history (PROTOCOL.md §8, MESH.md E.a): rings per (topic, epoch), the topic's
 * current position, and the global bounds — slots per ring, a byte budget that evicts the
 * least-recently-written ring first, and a TTL for idle rings.
 */
import { randomBytes } from 'node:crypto';
import { epochHex, parseEpochHex } from '../protocol/publication.js';
import { PinnedBytes } from './pinned-bytes.js';
import { RecoveryRing } from './ring.js';

export interface RecoveryStoreOptions {
  bufferSize: number;
  ttlMs: number;
  maxMessages: number;
  memoryBudgetBytes: number;
  now?: () => number;
  /** Source of new epochs (tests inject collisions); default crypto-random u32. */
  randomEpoch?: () => number;
}

export type RecoveryOutcome =
  | { kind: 'recovered'; epoch: string; offset: number; messages: Buffer[] }
  | { kind: 'not_recovered'; epoch: string; offset: number; messages: Buffer[] }
  | { kind: 'no_history'; epoch: null; offset: 0; messages: Buffer[] };

export interface RecoveryStats {
  topics: number;
  rings: number;
  /** Memory the rings keep alive (whole backing stores; the budget applies to this). */
  bytes: number;
  /** `ttl` and `budget` count rings; `slots` counts messages pushed out of a full ring. */
  evictions: { ttl: number; budget: number; slots: number };
}

interface TopicHistory {
  readonly rings: Map<number, RecoveryRing>;
  /** Where the topic's stream is now; null until the next message after its ring went away. */
  current: RecoveryRing | null;
}

/** Epochs remembered per topic after its rings are gone, so a new epoch never repeats a recent one. */
const RETIRED_EPOCHS_PER_TOPIC = 8;
/** Topics whose retired epochs are remembered (oldest forgotten first). */
const RETIRED_TOPICS_MAX = 65_536;

export class RecoveryStore {
  private readonly slots: number;
  private readonly ttlMs: number;
  private readonly maxMessages: number;
  private readonly budget: number;
  private readonly now: () => number;
  private readonly randomEpoch: () => number;
  private readonly topics = new Map<string, TopicHistory>();
  /** Every ring, least recently written first. */
  private readonly lru = new Map<RecoveryRing, string>();
  private lastWritten: RecoveryRing | null = null;
  private readonly retired = new Map<string, number[]>();
  private readonly pinned = new PinnedBytes();
  private readonly evictions = { ttl: 0, budget: 0, slots: 0 };

  constructor(options: RecoveryStoreOptions) {
    this.slots = options.bufferSize;
    this.ttlMs = options.ttlMs;
    this.maxMessages = options.maxMessages;
    this.budget = options.memoryBudgetBytes;
    this.now = options.now ?? Date.now;
    this.randomEpoch = options.randomEpoch ?? (() => randomBytes(4).readUInt32BE(0));
  }

  /** The stamp for the next locally sequenced message of `topic` (MESH.md E.a step 1). */
  nextStamp(topic: string): { epoch: number; offset: number } {
    const history = this.history(topic);
    const ring = history.current ?? this.openRing(topic, history, this.freshEpoch(topic, history));
    history.current = ring;
    return { epoch: ring.epoch, offset: ring.head };
  }

  /**
   * Store a stamped message (sequenced here or received over the mesh) and make its (epoch, offset)
   * the topic's current position.
   */
  append(topic: string, epoch: number, offset: number, stamped: Buffer): void {
    if (!Number.isSafeInteger(offset) || offset < 0) return;
    const history = this.history(topic);
    const ring = history.rings.get(epoch) ?? this.openRing(topic, history, epoch);
    history.current = ring;
    const evictedBefore = ring.evicted;
    ring.append(offset, stamped, this.now());
    this.evictions.slots += ring.evicted - evictedBefore;
    this.touch(ring, topic);
    this.enforceBudget();
  }

  /** PROTOCOL.md §8 outcome table for a client holding (epoch, lastOffset) of `topic`. Never partial. */
  recover(topic: string, epoch: unknown, lastOffset: unknown): RecoveryOutcome {
    const history = this.topics.get(topic);
    if (history === undefined) return noHistory();
    const wanted = parseEpochHex(epoch);
    const ring = wanted === null ? undefined : history.rings.get(wanted);
    // A ring that is no longer current cannot promise continuity with what comes next; it still
    // serves when the topic has no current ring (MESH.md E.a: interest ended, ranges still held).
    if (ring !== undefined && (history.current === ring || history.current === null)) {
      const messages = this.replayable(ring, lastOffset);
      if (messages !== null) return { kind: 'recovered', epoch: epochHex(ring.epoch), offset: ring.head - 1, messages };
    }
    return positionOf(history);
  }

  /**
   * The range to fetch from other members before answering a client holding (epoch, lastOffset):
   * null when this store can answer by itself (it holds the range in its current ring, the client
   * asks for too much, or the topic has moved to another epoch). A ring that is not current may
   * have stopped short, so its range is fetched too (MESH.md E.a; docs/MESH-EXTENSIONS.md E.f).
   */
  missingRange(topic: string, epoch: unknown, lastOffset: unknown): { epoch: number; from: number } | null {
    const wanted = parseEpochHex(epoch);
    const from = firstMissed(lastOffset);
    if (wanted === null || from === null) return null;
    const history = this.topics.get(topic);
    if (history === undefined || history.current === null) return { epoch: wanted, from };
    if (history.current.epoch !== wanted) return null;
    const ring = history.current;
    if (from >= ring.tail || ring.head - from > this.maxMessages) return null;
    return { epoch: wanted, from };
  }

  /**
   * For another member (docs/MESH-EXTENSIONS.md E.f): messages `from` … head−1 of the topic's
   * current ring if it is of `epoch` and holds them all ([] when `from` is its head), else null. A
   * ring that is not current may have stopped short, so it does not answer.
   */
  heldRange(topic: string, epoch: number, from: number): Buffer[] | null {
    const ring = this.topics.get(topic)?.current;
    if (ring === undefined || ring === null || ring.epoch !== epoch) return null;
    return this.replayable(ring, from - 1);
  }

  /**
   * Messages `from`, `from`+1, … of (topic, epoch) fetched from another member: they fill the ring
   * around what live messages it already holds ([]: the topic's next offset is `from`). The ring
   * becomes current unless another is.
   */
  insertRange(topic: string, epoch: number, from: number, messages: Buffer[]): void {
    const history = this.history(topic);
    const ring = history.rings.get(epoch) ?? this.openRing(topic, history, epoch);
    ring.positionAt(from);
    const now = this.now();
    const evictedBefore = ring.evicted;
    // Messages from the ring's tail on fill its holes and extend it; older ones go in front of the
    // tail, newest first, as long as they meet it and fit its window.
    const atTail = Math.max(0, Math.min(messages.length, ring.tail - from));
    for (let i = atTail; i < messages.length; i++) ring.append(from + i, messages[i]!, now);
    for (let i = atTail - 1; i >= 0; i--) if (!ring.prepend(from + i, messages[i]!)) break;
    this.evictions.slots += ring.evicted - evictedBefore;
    history.current ??= ring;
    this.touch(ring, topic);
    this.enforceBudget();
  }

  /** The current position for a plain subscribe: `not_recovered` with it, or `no_history`. */
  position(topic: string): RecoveryOutcome {
    const history = this.topics.get(topic);
    return history === undefined ? noHistory() : positionOf(history);
  }

  /** MESH.md E.a: this member's interest in `topic` ended, so its ring stops being current. */
  detach(topic: string): void {
    const history = this.topics.get(topic);
    if (history !== undefined) history.current = null;
  }

  /** Evict rings idle for longer than the TTL (PROTOCOL.md §8: cleanup every 30 s). */
  sweep(): number {
    const cutoff = this.now() - this.ttlMs;
    let evicted = 0;
    for (const ring of this.lru.keys()) {
      if (ring.lastWriteMs >= cutoff) break; // the rest were written later
      this.evict(ring);
      evicted++;
    }
    this.evictions.ttl += evicted;
    return evicted;
  }

  stats(): RecoveryStats {
    return { topics: this.topics.size, rings: this.lru.size, bytes: this.pinned.total, evictions: { ...this.evictions } };
  }

  /** Offsets k+1 … head−1 when all are held and within the replay cap (§8 table, row 1). */
  private replayable(ring: RecoveryRing, lastOffset: unknown): Buffer[] | null {
    const from = firstMissed(lastOffset);
    if (from === null || from > ring.head || ring.head - from > this.maxMessages) return null;
    // A client at the head missed nothing, also on a ring positioned by a fetch and still empty.
    if (from === ring.head) return ring.positioned ? [] : null;
    return ring.range(from);
  }

  private history(topic: string): TopicHistory {
    let history = this.topics.get(topic);
    if (history === undefined) {
      history = { rings: new Map(), current: null };
      this.topics.set(topic, history);
    }
    return history;
  }

  private openRing(topic: string, history: TopicHistory, epoch: number): RecoveryRing {
    const ring = new RecoveryRing(epoch, this.slots, this.now(), this.pinned);
    history.rings.set(epoch, ring);
    this.touch(ring, topic);
    return ring;
  }

  /** MESH.md E.a: a random u32 different from every epoch recorded for the topic. */
  private freshEpoch(topic: string, history: TopicHistory): number {
    const retired = this.retired.get(topic) ?? [];
    let epoch = this.randomEpoch() >>> 0;
    // The recorded set is finite, so after a few random draws a linear step always ends.
    for (let tries = 0; history.rings.has(epoch) || retired.includes(epoch); tries++) {
      epoch = tries < 16 ? this.randomEpoch() >>> 0 : (epoch + 1) >>> 0;
    }
    return epoch;
  }

  private touch(ring: RecoveryRing, topic: string): void {
    if (this.lastWritten === ring) return;
    this.lru.delete(ring);
    this.lru.set(ring, topic);
    this.lastWritten = ring;
  }

  private enforceBudget(): void {
    while (this.pinned.total > this.budget && this.lru.size > 0) {
      const oldest = this.lru.keys().next().value as RecoveryRing;
      this.evict(oldest);
      this.evictions.budget++;
    }
  }

  private evict(ring: RecoveryRing): void {
    const topic = this.lru.get(ring)!;
    this.lru.delete(ring);
    if (this.lastWritten === ring) this.lastWritten = null;
    ring.clear();
    const history = this.topics.get(topic)!;
    history.rings.delete(ring.epoch);
    if (history.current === ring) history.current = null;
    this.retire(topic, ring.epoch);
    if (history.rings.size === 0) this.topics.delete(topic);
  }

  private retire(topic: string, epoch: number): void {
    let epochs = this.retired.get(topic);
    if (epochs === undefined) {
      if (this.retired.size >= RETIRED_TOPICS_MAX) this.retired.delete(this.retired.keys().next().value as string);
      epochs = [];
      this.retired.set(topic, epochs);
    }
    epochs.push(epoch);
    if (epochs.length > RETIRED_EPOCHS_PER_TOPIC) epochs.shift();
  }
}

/** The offset after a client's last one (−1: it has none yet), or null when that is not an offset. */
function firstMissed(lastOffset: unknown): number | null {
  return typeof lastOffset === 'number' && Number.isSafeInteger(lastOffset) && lastOffset >= -1 ? lastOffset + 1 : null;
}

function noHistory(): RecoveryOutcome {
  return { kind: 'no_history', epoch: null, offset: 0, messages: [] };
}

/** NotRecovered with the current position, or NoHistory when the topic has no current data. */
function positionOf(history: TopicHistory): RecoveryOutcome {
  const ring = history.current;
  if (ring === null || ring.head === ring.tail) return noHistory();
  return { kind: 'not_recovered', epoch: epochHex(ring.epoch), offset: ring.head - 1, messages: [] };
}
