import { MAX_FRAME } from '../frame/constants.js';

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
  const open = firstNonSpace(body, 0);
  const restStart = open + 1;
  const empty = body[firstNonSpace(body, restStart)] === CLOSE;
  const digits = decimalDigits(offset);
  const out = Buffer.allocUnsafe(head.length + digits + (empty ? 0 : 1) + body.length - restStart);
  out.set(head, 0);
  let p = head.length + digits;
  // Digits written right to left, without building a string per message.
  let v = offset;
  for (let i = p - 1; i >= head.length; i--) {
    out[i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  if (!empty) out[p++] = 0x2c; // ,
  body.copy(out, p, restStart);
  return out;
}

function decimalDigits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}
