import { COMPRESS_MIN, Cap, Flag, HEADER_LEN, MAX_FRAME, TRAILER_LEN } from '../frame/constants.js';
import { maybeCompress } from '../frame/compression.js';
import { copyRecords, encodeMsg } from '../frame/encoder.js';
import type { SequencerCounters } from './counters.js';
import type { SequencerHost } from './host.js';
import type { OwnerView } from './owner-view.js';
import { weaveStamp } from './stamp.js';
import type { Stamp, TopicState } from './topic-state.js';

const VARIANT_FLAGS = [0, Flag.COMPRESSED, Flag.HAS_RECOVERY, Flag.HAS_RECOVERY | Flag.COMPRESSED];

/** Sequencing at the owner (§E.a steps 1–5): stamp, deliver locally, send one MSG per target link. */
export class Stamper {
  /** Per MSG variant (bit 0 compressed, bit 1 trailer): where this message's record was encoded. */
  private readonly variantAt = [-1, -1, -1, -1];
  private readonly variantFrom: (Buffer | null)[] = [null, null, null, null];
  private readonly variantSize = [0, 0, 0, 0];

  constructor(
    private readonly host: SequencerHost,
    private readonly view: OwnerView,
    private readonly counters: SequencerCounters,
  ) {}

  /** Stamps and fans out one message; null when the stamped MSG would not fit a frame. */
  sequence(ts: TopicState, body: Buffer): Stamp | null {
    const offset = ts.seqOffset + 1;
    const stamped = weaveStamp(ts.stampHead(), offset, body);
    if (HEADER_LEN + ts.nameBytes.length + stamped.length + TRAILER_LEN > MAX_FRAME) return null;
    const epoch = ts.seqEpoch;
    ts.seqOffset = offset;
    ts.noteLast(epoch, offset, this.host.selfId);
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
    const targets = this.view.targets(ts);
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
}
