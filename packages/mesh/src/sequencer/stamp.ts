import { copyRange } from '../frame/bytes.js';
import { Flag, MAX_FRAME } from '../frame/constants.js';
import { beginMsg, endMsg, recordSize } from '../frame/encoder.js';
import type { FrameSink } from '../frame/sink.js';

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function firstNonSpace(b: Buffer, from: number): number {
  let i = from;
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

/**
 * MESH.md §E.a: the body must be a JSON object. Only its outer shape is checked here (first and last
 * non-space bytes are braces): the body was serialised by a member of this mesh, and a full parse per
 * message would cost more than the rest of the path.
 */
export function isJsonObjectText(body: Buffer): boolean {
  const first = firstNonSpace(body, 0);
  if (first >= body.length || body[first] !== OPEN) return false;
  let last = body.length - 1;
  while (last > first && isSpace(body[last]!)) last--;
  return last > first && body[last] === CLOSE;
}

/** §E.a: require body_len + 3 × topic_len + 68 ≤ 1 MiB so the stamped MSG fits one frame. */
export function fitsAfterStamp(bodyLen: number, topicBytes: number): boolean {
  return bodyLen + 3 * topicBytes + 68 <= MAX_FRAME;
}

/** `{"tp":<T>,"e":"xxxxxxxx","o":` for one (topic, epoch); cached by the topic. */
export function stampHead(topic: string, epoch: number): Buffer {
  return Buffer.from(`{"tp":${JSON.stringify(topic)},"e":"${epochHex(epoch)}","o":`, 'utf8');
}

export function epochHex(epoch: number): string {
  return (epoch >>> 0).toString(16).padStart(8, '0');
}

/** §E.a step 2: weave the stamp in right after the body's opening brace. */
export function weaveStamp(head: Buffer, offset: number, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(stampedLength(head, offset, body));
  writeStamped(out, 0, head, offset, body);
  return out;
}

/** Length of `weaveStamp(head, offset, body)`. */
export function stampedLength(head: Buffer, offset: number, body: Buffer): number {
  const restStart = firstNonSpace(body, 0) + 1;
  const empty = body[firstNonSpace(body, restStart)] === CLOSE;
  return head.length + decimalDigits(offset) + (empty ? 0 : 1) + body.length - restStart;
}

/**
 * Writes the stamped message into `dst` at `at` (room for `stampedLength` bytes), for example
 * straight into a link's outbound buffer; returns the end position.
 */
export function writeStamped(dst: Uint8Array, at: number, head: Buffer, offset: number, body: Buffer): number {
  const restStart = firstNonSpace(body, 0) + 1;
  const empty = body[firstNonSpace(body, restStart)] === CLOSE;
  const digitsEnd = at + head.length + decimalDigits(offset);
  const restAt = empty ? digitsEnd : digitsEnd + 1;
  const end = restAt + body.length - restStart;
  // The body goes first, whole: one native copy, where copying only its part after the brace would
  // first build a view. Its opening brace (and any space before it) lands inside the stamp's place
  // and is overwritten below. A body with more leading space than the stamp is long is rare.
  if (restAt - restStart >= at) dst.set(body, restAt - restStart);
  else copyRange(body, restStart, body.length, dst, restAt);
  dst.set(head, at);
  // Digits written right to left, without building a string per message.
  let v = offset;
  for (let i = digitsEnd - 1; i >= at + head.length; i--) {
    const q = Math.floor(v / 10);
    dst[i] = 0x30 + (v - q * 10);
    v = q;
  }
  if (!empty) dst[digitsEnd] = 0x2c; // ,
  return end;
}

/** A MSG record whose payload is the stamped message of `stampedLength` bytes, woven straight into the sink. */
export function encodeStampedMsg(
  sink: FrameSink,
  topic: Buffer,
  head: Buffer,
  offset: number,
  body: Buffer,
  stampedLen: number,
  flags: number,
  epoch: number,
): number {
  const at = beginMsg(sink, topic, stampedLen, flags);
  endMsg(sink, writeStamped(sink.buf, at, head, offset, body), flags, epoch, offset);
  return recordSize(topic.length, stampedLen, (flags & Flag.HAS_RECOVERY) !== 0);
}

function decimalDigits(n: number): number {
  let d = 1;
  for (let limit = 10; n >= limit; limit *= 10) d++;
  return d;
}
