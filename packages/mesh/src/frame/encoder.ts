import { copyRange } from './bytes.js';
import { Flag, FrameType, HEADER_LEN, RECORD_PREFIX, TRAILER_LEN } from './constants.js';
import type { FrameSink } from './sink.js';

const TWO_32 = 4294967296;
const EMPTY = Buffer.alloc(0);

/** Bytes a record takes on the wire: length prefix + header + topic + payload (+ trailer). */
export function recordSize(topicLen: number, payloadLen: number, trailer: boolean): number {
  return RECORD_PREFIX + HEADER_LEN + topicLen + payloadLen + (trailer ? TRAILER_LEN : 0);
}

/** MESH.md §2: u32 BE record length, then the little-endian inner header. */
function writeHeader(b: Buffer, p: number, inner: number, type: number, flags: number, tl: number, pl: number): void {
  b[p] = inner >>> 24;
  b[p + 1] = (inner >>> 16) & 255;
  b[p + 2] = (inner >>> 8) & 255;
  b[p + 3] = inner & 255;
  b[p + 4] = type;
  b[p + 5] = flags;
  b[p + 6] = tl & 255;
  b[p + 7] = tl >>> 8;
  b[p + 8] = pl & 255;
  b[p + 9] = (pl >>> 8) & 255;
  b[p + 10] = (pl >>> 16) & 255;
  b[p + 11] = pl >>> 24;
}

export function writeU64LE(b: Buffer, p: number, value: number): void {
  b.writeUInt32LE(value >>> 0, p);
  b.writeUInt32LE(Math.floor(value / TWO_32), p + 4);
}

export function readU64LE(b: Buffer, p: number): number {
  return b.readUInt32LE(p) + b.readUInt32LE(p + 4) * TWO_32;
}

/** Any frame without a trailer. The caller guarantees the inner frame fits 1 MiB (§2). */
export function encodeFrame(sink: FrameSink, type: number, flags: number, topic: Buffer | null, payload: Buffer | null): number {
  const t = topic ?? EMPTY;
  const pl = payload ?? EMPTY;
  const size = RECORD_PREFIX + HEADER_LEN + t.length + pl.length;
  const p = sink.reserve(size);
  const b = sink.buf;
  writeHeader(b, p, size - RECORD_PREFIX, type, flags, t.length, pl.length);
  let q = p + RECORD_PREFIX + HEADER_LEN;
  b.set(t, q);
  q += t.length;
  b.set(pl, q);
  sink.commit(q + pl.length);
  return size;
}

/**
 * The first half of a MSG record: reserves room for the whole record and writes everything before
 * the payload. Returns where the `payloadLen` payload bytes go in `sink.buf`; the caller writes
 * them there (for the owner's MSGs, straight from the stamp weaver, with no intermediate buffer)
 * and then calls `endMsg`. Nothing else may be written to the sink in between.
 */
export function beginMsg(sink: FrameSink, topic: Buffer, payloadLen: number, flags: number): number {
  const size = recordSize(topic.length, payloadLen, (flags & Flag.HAS_RECOVERY) !== 0);
  const p = sink.reserve(size);
  const b = sink.buf;
  writeHeader(b, p, size - RECORD_PREFIX, FrameType.MSG, flags, topic.length, payloadLen);
  return copyRange(topic, 0, topic.length, b, p + RECORD_PREFIX + HEADER_LEN);
}

/** The second half: the §3 recovery trailer (u32 LE epoch, u64 LE offset) if flagged, then commit. */
export function endMsg(sink: FrameSink, payloadEnd: number, flags: number, epoch: number, offset: number): void {
  let q = payloadEnd;
  if ((flags & Flag.HAS_RECOVERY) !== 0) {
    const b = sink.buf;
    const lo = offset >>> 0;
    const hi = Math.floor(offset / TWO_32);
    b[q] = epoch & 255;
    b[q + 1] = (epoch >>> 8) & 255;
    b[q + 2] = (epoch >>> 16) & 255;
    b[q + 3] = epoch >>> 24;
    b[q + 4] = lo & 255;
    b[q + 5] = (lo >>> 8) & 255;
    b[q + 6] = (lo >>> 16) & 255;
    b[q + 7] = lo >>> 24;
    b[q + 8] = hi & 255;
    b[q + 9] = (hi >>> 8) & 255;
    b[q + 10] = (hi >>> 16) & 255;
    b[q + 11] = hi >>> 24;
    q += TRAILER_LEN;
  }
  sink.commit(q);
}

/** MSG, optionally with the recovery trailer. Returns the record size. */
export function encodeMsg(sink: FrameSink, topic: Buffer, payload: Buffer, flags: number, epoch: number, offset: number): number {
  const at = beginMsg(sink, topic, payload.length, flags);
  sink.buf.set(payload, at);
  endMsg(sink, at + payload.length, flags, epoch, offset);
  return recordSize(topic.length, payload.length, (flags & Flag.HAS_RECOVERY) !== 0);
}

/** Copies an already-encoded record (fan-out encodes once, then copies per link). */
export function copyRecord(sink: FrameSink, record: Uint8Array): void {
  const p = sink.reserve(record.length);
  sink.buf.set(record, p);
  sink.commit(p + record.length);
}
