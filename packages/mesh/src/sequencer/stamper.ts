import { COMPRESS_MIN, Cap, Flag, HEADER_LEN, MAX_FRAME, TRAILER_LEN } from '../frame/constants.js';
import { maybeCompress } from '../frame/compression.js';
import { copyRecord, encodeMsg } from '../frame/encoder.js';
import type { SequencerCounters } from './counters.js';
import type { SequencerHost } from './host.js';
import type { OwnerView } from './owner-view.js';
import { encodeStampedMsg, stampedLength, weaveStamp } from './stamp.js';
import type { Stamp, TopicState } from './topic-state.js';

const VARIANT_FLAGS = [0, Flag.COMPRESSED, Flag.HAS_RECOVERY, Flag.HAS_RECOVERY | Flag.COMPRESSED];

/** Sequencing at the owner (§E.a steps 1–5): stamp, deliver locally, send one MSG per target link. */
export class Stamper {
  /** Per MSG variant (bit 0 compressed, bit 1 trailer): where this message's record was encoded. */
  private readonly variantAt = [-1, -1, -1, -1];
  private readonly variantFrom: (Buffer | null)[] = [null, null, null, null];
  private readonly variantSize = [0, 0, 0, 0];
  private readonly variantView: (Uint8Array | null)[] = [null, null, null, null];

  constructor(
    private readonly host: SequencerHost,
    private readonly view: OwnerView,
    private readonly counters: SequencerCounters,
  ) {}

  /** Stamps and fans out one message; null when the stamped MSG would not fit a frame. */
  sequence(ts: TopicState, body: Buffer): Stamp | null {
    const offset = ts.seqOffset + 1;
    const length = stampedLength(ts.stampHead(), offset, body);
    if (HEADER_LEN + ts.nameBytes.length + length + TRAILER_LEN > MAX_FRAME) return null;
    const epoch = ts.seqEpoch;
    ts.seqOffset = offset;
    ts.noteLast(epoch, offset, this.host.selfId);
    this.counters.sequenced++;
    // A Buffer of the stamped message only for a local consumer; links get it woven in directly.
    const stamped = this.host.deliversLocally() ? weaveStamp(ts.stampHead(), offset, body) : null;
    this.fanOut(ts, body, stamped, length, epoch, offset);
    if (stamped !== null) this.host.deliver(ts.name, stamped, epoch, offset, this.host.selfId);
    return { epoch, offset };
  }

  /**
   * §7 frame variant per link. Each variant is encoded once, straight into the first link that takes
   * it, and copied from there into the others (fan-out cost per link is one small copy, through one
   * view of the record made for the second link and shared by the rest).
   */
  private fanOut(ts: TopicState, body: Buffer, stamped: Buffer | null, length: number, epoch: number, offset: number): void {
    const targets = this.view.targets(ts);
    const at = this.variantAt;
    const from = this.variantFrom;
    const view = this.variantView;
    at[0] = at[1] = at[2] = at[3] = -1;
    const head = ts.stampHead();
    let compressed: Buffer | null | undefined;
    for (let i = 0; i < targets.length; i++) {
      const link = targets[i]!;
      let v = link.has(Cap.RECOVERY) ? 2 : 0;
      if (link.has(Cap.COMPRESSION) && length >= COMPRESS_MIN) {
        if (compressed === undefined) compressed = maybeCompress((stamped ??= weaveStamp(head, offset, body)));
        if (compressed !== null) v |= 1;
      }
      const out = link.out;
      let size: number;
      if (at[v] === -1) {
        const flags = VARIANT_FLAGS[v]!;
        if ((v & 1) !== 0) size = encodeMsg(out, ts.nameBytes, compressed!, flags, epoch, offset);
        else if (stamped !== null) size = encodeMsg(out, ts.nameBytes, stamped, flags, epoch, offset);
        else size = encodeStampedMsg(out, ts.nameBytes, head, offset, body, length, flags, epoch);
        at[v] = out.end - size;
        from[v] = out.buf;
        this.variantSize[v] = size;
        view[v] = null;
      } else {
        size = this.variantSize[v]!;
        copyRecord(out, (view[v] ??= new Uint8Array(from[v]!.buffer, from[v]!.byteOffset + at[v]!, size)));
      }
      link.countOut(size);
    }
  }
}
