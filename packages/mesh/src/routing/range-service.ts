import { Cap, FrameType, HEADER_LEN, MAX_FRAME } from '../frame/constants.js';
import type { FrameView } from '../frame/decoder.js';
import { decodeRangeReply, decodeRangeRequest, encodeRangeReply, encodeRangeRequest, type RangeRequest } from '../frame/payloads.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { LinkTable } from '../membership/link-table.js';
import type { MemberCounters } from '../metrics.js';

/**
 * Messages `from`, `from`+1, … of (topic, epoch) from this member's current ring ([]: nothing after
 * `from` − 1), or null when that ring does not reach back to `from` or is not current.
 */
export type RangeProvider = (topic: string, epoch: number, from: number) => Buffer[] | null;

/** Fetches in flight at once; more are answered null at once (counted as `busy`). */
const MAX_PENDING = 1024;
/** Reply bytes besides the messages: frame header, the reply's fixed fields. */
const REPLY_OVERHEAD = HEADER_LEN + 21;

interface PendingFetch {
  topic: string;
  request: RangeRequest;
  /** Links that have not answered yet. */
  waiting: number;
  /** The longest answer from a member that held the range; null until one did. */
  best: Buffer[] | null;
  timer: NodeJS.Timeout;
  resolve: (messages: Buffer[] | null) => void;
}

/**
 * Range fetch, docs/MESH-EXTENSIONS.md §E.f (capability RANGE): a member asked to recover a
 * client's range it does not hold (it started after those messages, or had no subscriber to the
 * topic then) asks every RANGE peer for the stamped messages of that (topic, epoch) from an offset
 * on. Each answers whether its current ring reaches back that far, and with what follows; the
 * longest of those answers wins.
 */
export class RangeService {
  provider: RangeProvider | null = null;
  private readonly pending = new Map<number, PendingFetch>();
  private nextId = 1;

  constructor(
    private readonly links: LinkTable,
    private readonly counters: MemberCounters,
  ) {}

  /**
   * Resolves with messages `from`, `from`+1, … (the longest answer in by `timeoutMs`; [] when a
   * member holds the range and nothing follows), or null when no member held it.
   */
  fetch(topic: string, epoch: number, from: number, timeoutMs: number): Promise<Buffer[] | null> {
    const targets = this.links.list.filter((link) => link.has(Cap.RANGE));
    if (targets.length === 0 || this.pending.size >= MAX_PENDING) {
      this.counters.rangeFetches[targets.length === 0 ? 'no-peer' : 'busy']++;
      return Promise.resolve(null);
    }
    const request = { id: this.takeId(), epoch, from };
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.finish(request.id), timeoutMs);
      this.pending.set(request.id, { topic, request, waiting: targets.length, best: null, timer, resolve });
      const topicBytes = Buffer.from(topic, 'utf8');
      const payload = encodeRangeRequest(request);
      for (const link of targets) link.send(FrameType.RANGE_REQUEST, 0, topicBytes, payload);
    });
  }

  onFrame(link: MeshLink, view: FrameView, topic: string): void {
    if (view.type === FrameType.RANGE_REQUEST) this.answer(link, view, topic);
    else this.onReply(link, view, topic);
  }

  /** The member stops: fetches in flight end with what they have. */
  stop(): void {
    for (const id of [...this.pending.keys()]) this.finish(id);
  }

  private answer(link: MeshLink, view: FrameView, topic: string): void {
    const request = decodeRangeRequest(view.payload());
    if (request === null) {
      this.counters.badFrames++;
      return link.close('bad-payload');
    }
    const held = this.provider?.(topic, request.epoch, request.from) ?? null;
    const messages = held === null ? [] : prefixThatFits(held, MAX_FRAME - REPLY_OVERHEAD - Buffer.byteLength(topic));
    this.counters.rangeRequests[held === null ? 'not-held' : 'held']++;
    link.send(FrameType.RANGE_REPLY, 0, Buffer.from(topic, 'utf8'), encodeRangeReply({ ...request, held: held !== null, messages }));
  }

  private onReply(link: MeshLink, view: FrameView, topic: string): void {
    const reply = decodeRangeReply(view.payload());
    if (reply === null) {
      this.counters.badFrames++;
      return link.close('bad-payload');
    }
    const fetch = this.pending.get(reply.id);
    // A late answer (the fetch timed out) or one for another range is dropped.
    if (fetch === undefined || fetch.topic !== topic || fetch.request.epoch !== reply.epoch || fetch.request.from !== reply.from) return;
    if (reply.held && (fetch.best === null || reply.messages.length > fetch.best.length)) fetch.best = reply.messages;
    if (--fetch.waiting === 0) this.finish(reply.id);
  }

  private finish(id: number): void {
    const fetch = this.pending.get(id);
    if (fetch === undefined) return;
    this.pending.delete(id);
    clearTimeout(fetch.timer);
    this.counters.rangeFetches[fetch.best !== null ? 'filled' : fetch.waiting > 0 ? 'timeout' : 'empty']++;
    fetch.resolve(fetch.best);
  }

  private takeId(): number {
    do this.nextId = this.nextId >= 0xffffffff ? 1 : this.nextId + 1;
    while (this.pending.has(this.nextId));
    return this.nextId;
  }
}

/** The longest prefix of `messages` whose reply entries (4-byte length + bytes) fit in `budget`. */
function prefixThatFits(messages: Buffer[], budget: number): Buffer[] {
  let used = 0;
  for (let i = 0; i < messages.length; i++) {
    used += 4 + messages[i]!.length;
    if (used > budget) return messages.slice(0, i);
  }
  return messages;
}
