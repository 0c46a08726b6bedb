import { HEADER_LEN, RECORD_PREFIX, TRAILER_LEN } from './constants.js';
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
  if (t.length > 0) q += t.copy(b, q);
  if (pl.length > 0) q += pl.copy(b, q);
  sink.commit(q);
  return size;
}

/** MSG, optionally with the §3 recovery trailer (u32 LE epoch, u64 LE offset), the hot path. */
export function encodeMsg(
  sink: FrameSink,
  topic: Buffer,
  payload: Buffer,
  flags: number,
  epoch: number,
  offset: number,
): number {
  const trailer = (flags & 0x02) !== 0;
  const size = recordSize(topic.length, payload.length, trailer);
  const p = sink.reserve(size);
  const b = sink.buf;
  writeHeader(b, p, size - RECORD_PREFIX, 0x01, flags, topic.length, payload.length);
  let q = copySmall(topic, b, p + RECORD_PREFIX + HEADER_LEN);
  q = copySmall(payload, b, q);
  if (trailer) {
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
  return size;
}

/** Buffer#copy costs a native call; for the short topics and payloads of the hot path a loop is cheaper. */
function copySmall(src: Buffer, dst: Buffer, at: number): number {
  const n = src.length;
  if (n > 16) {
    dst.set(src, at);
    return at + n;
  }
  for (let i = 0; i < n; i++) dst[at + i] = src[i]!;
  return at + n;
}

/** Copies already-encoded records (fan-out encodes once, then copies per link). */
export function copyRecords(sink: FrameSink, src: Buffer, start: number, end: number): void {
  const n = end - start;
  const p = sink.reserve(n);
  const dst = sink.buf;
  if (n > 16) src.copy(dst, p, start, end);
  else for (let i = 0; i < n; i++) dst[p + i] = src[start + i]!;
  sink.commit(p + n);
}
