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

/**
 * MESH.md E.a step 2: weave `"tp":T,"e":"xxxxxxxx","o":n,` in right after the opening brace.
 * `body` is a JSON object's text (or its UTF-8 bytes, as received over the mesh).
 */
export function stampPublication(topic: string, epoch: number, offset: number, body: string | Uint8Array): Buffer {
  const stamp = `{"tp":${topicJson(topic)},"e":"${epochHex(epoch)}","o":${offset}`;
  if (typeof body === 'string') {
    // The stamp takes the place of the body's `{`: one template and one encoding. Encoding the
    // stamp and the body separately into one buffer cost 1.6 times as much per message.
    const members = body.slice(1);
    return Buffer.from(closesAtOnce(members) ? stamp + members : `${stamp},${members}`);
  }
  const emptyObject = firstNonSpace(body, 1) === CLOSE_BRACE;
  return Buffer.concat([Buffer.from(emptyObject ? stamp : `${stamp},`), body.subarray(1)]);
}

/** `members` (an object's text after its `{`) is just the `}`, maybe after white space. */
function closesAtOnce(members: string): boolean {
  for (let i = 0; i < members.length; i++) {
    const code = members.charCodeAt(i);
    if (!isJsonSpace(code)) return code === CLOSE_BRACE;
  }
  return false;
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

let lastTopic = '';
let lastTopicJson = '""';

/** `topic` as a JSON string. Runs per message (stamp and ack); a run of messages shares a topic. */
export function topicJson(topic: string): string {
  if (topic !== lastTopic) {
    lastTopic = topic;
    lastTopicJson = JSON.stringify(topic);
  }
  return lastTopicJson;
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

