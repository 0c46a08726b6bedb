/**
 * Topic publications (PROTOCOL.md §8, §19; MESH.md E.a): the body is built once, stamped once, and
 * the same bytes are stored, sent live and replayed. These run per published message, so they work
 * on text and never parse the body.
 */

/** `{"c":"U","t":<type>,"p":<data>,"v":1}`; `dataJson` must already be valid JSON. */
export function publicationBody(type: string, dataJson: string): string {
  return `{"c":"U","t":${JSON.stringify(type)},"p":${dataJson},"v":1}`;
}

const CLOSE_BRACE = 0x7d;
const COMMA = 0x2c;

/**
 * MESH.md E.a step 2: weave `"tp":T,"e":"xxxxxxxx","o":n,` in right after the opening brace.
 * `body` is a JSON object's text (or its UTF-8 bytes, as received over the mesh).
 */
export function stampPublication(topic: string, epoch: number, offset: number, body: string | Uint8Array): Buffer {
  const stamp = `{"tp":${JSON.stringify(topic)},"e":"${epochHex(epoch)}","o":${offset}`;
  if (typeof body === 'string') {
    if (isEmptyObject(body)) return Buffer.from(stamp + body.slice(1));
    // Encode the stamp, then the body over the byte after it, whose `{` becomes the separating
    // comma: one pass over the body instead of slicing, joining and encoding the joined text.
    const stampBytes = Buffer.byteLength(stamp);
    const stamped = Buffer.allocUnsafe(stampBytes + Buffer.byteLength(body));
    stamped.write(stamp, 0);
    stamped.write(body, stampBytes);
    stamped[stampBytes] = COMMA;
    return stamped;
  }
  const emptyObject = firstNonSpace(body, 1) === CLOSE_BRACE;
  return Buffer.concat([Buffer.from(emptyObject ? stamp : `${stamp},`), body.subarray(1)]);
}

/** `body` is `{}`, maybe with white space inside. */
function isEmptyObject(body: string): boolean {
  const first = body.charCodeAt(1);
  if (first === CLOSE_BRACE) return true;
  return isJsonSpace(first) && body.slice(1).trimStart().charCodeAt(0) === CLOSE_BRACE;
}

function isJsonSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function firstNonSpace(bytes: Uint8Array, from: number): number {
  for (let i = from; i < bytes.length; i++) {
    if (!isJsonSpace(bytes[i]!)) return bytes[i]!;
  }
  return -1;
}

let lastEpoch = -1;
let lastEpochHex = '';

/** PROTOCOL.md §4 `e`: a u32 as exactly 8 lowercase hex digits. Runs per message; epochs rarely change. */
export function epochHex(epoch: number): string {
  if (epoch !== lastEpoch) {
    lastEpoch = epoch;
    lastEpochHex = (epoch >>> 0).toString(16).padStart(8, '0');
  }
  return lastEpochHex;
}

const EPOCH_HEX = /^[0-9a-fA-F]{8}$/;

/** The u32 an `e` value names, or null when it is not 8 hex digits (PROTOCOL.md §8: unknown epoch). */
export function parseEpochHex(s: unknown): number | null {
  if (typeof s !== 'string' || !EPOCH_HEX.test(s)) return null;
  return Number.parseInt(s, 16);
}

