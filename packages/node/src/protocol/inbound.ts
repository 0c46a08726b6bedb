/**
 * Inbound frame decoding (PROTOCOL.md §3.2): one function from a uWS message to a typed outcome.
 * It never throws; bad input comes back as `dropped` with a reason the caller counts. The input
 * ArrayBuffer belongs to uWS and is only valid during the call: nothing returned aliases it.
 */
import { inflateSync } from 'node:zlib';
import { Unpackr } from 'msgpackr';
import type { E2ECipher } from './e2e.js';
import { scanMsgpack } from './msgpack-scan.js';
import { scanPublish } from './publish-scan.js';

export interface ClientMessage {
  t: string;
  p: Record<string, unknown>;
  cid?: string;
}

export type DropReason =
  | 'bad_json'
  | 'not_object'
  | 'bad_utf8'
  | 'msgpack_depth'
  | 'msgpack_invalid'
  | 'inflate_failed'
  | 'inflate_too_large'
  | 'decrypt_failed'
  | 'no_key';

export type Inbound =
  | { kind: 'message'; msg: ClientMessage; encrypted: boolean }
  | { kind: 'activity' }
  | { kind: 'application'; bytes: Uint8Array }
  | { kind: 'dropped'; reason: DropReason };

export interface InboundConnection {
  msgpack: boolean;
  cipher: E2ECipher | null;
}

/** PROTOCOL.md §16: inflated input is capped at 10 MiB. */
export const INFLATE_CAP_BYTES = 10 * 1024 * 1024;

const ACTIVITY: Inbound = Object.freeze({ kind: 'activity' });

function dropped(reason: DropReason): Inbound {
  return { kind: 'dropped', reason };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
// Records off for wire compatibility (DESIGN.md); large integers as numbers so payloads stay JSON-safe.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', copyBuffers: true });

const C = 0x43;
const E = 0x45;
const M = 0x4d;
const COLON = 0x3a;
const ZLIB_CMF = 0x78;

export function decodeInbound(message: ArrayBuffer, isBinary: boolean, conn: InboundConnection): Inbound {
  const bytes = new Uint8Array(message);
  if (!isBinary) return decodeText(bytes, false);
  if (hasPrefix(bytes, E)) {
    if (conn.cipher === null) return dropped('no_key');
    const plain = conn.cipher.decrypt(bytes);
    return plain === null ? dropped('decrypt_failed') : decodeText(plain, true);
  }
  if (hasPrefix(bytes, C)) return inflateThenText(bytes.subarray(2));
  if (isRawZlib(bytes)) return inflateThenText(bytes);
  if (hasPrefix(bytes, M)) return decodeMsgpack(bytes.subarray(2));
  if (conn.msgpack) return decodeMsgpack(bytes);
  return decodeOtherBinary(bytes);
}

function hasPrefix(bytes: Uint8Array, letter: number): boolean {
  return bytes.length >= 2 && bytes[0] === letter && bytes[1] === COLON;
}

/** RFC 1950 header with a 32 KiB window and any of the four FLEVEL values (`78 01|5E|9C|DA`). */
function isRawZlib(bytes: Uint8Array): boolean {
  if (bytes.length < 2 || bytes[0] !== ZLIB_CMF) return false;
  const flg = bytes[1];
  return flg === 0x01 || flg === 0x5e || flg === 0x9c || flg === 0xda;
}

function inflateThenText(compressed: Uint8Array): Inbound {
  let inflated: Buffer;
  try {
    inflated = inflateSync(compressed, { maxOutputLength: INFLATE_CAP_BYTES });
  } catch (error) {
    return (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' ? dropped('inflate_too_large') : dropped('inflate_failed');
  }
  return decodeText(inflated, false);
}

/** Text input (§3.2): a JSON object, optionally behind a legacy prefix; any other text is activity. */
function decodeText(bytes: Uint8Array, encrypted: boolean): Inbound {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return dropped('bad_utf8');
  }
  const start = jsonStart(text);
  if (start < 0) return ACTIVITY;
  const publish = scanPublish(text, start);
  if (publish !== null) return { kind: 'message', msg: publish, encrypted };
  let value: unknown;
  try {
    value = JSON.parse(start === 0 ? text : text.slice(start));
  } catch {
    return dropped('bad_json');
  }
  return toMessage(value, encrypted);
}

/**
 * Where the JSON starts: 0 for `{`, past a legacy category prefix (`WSE{`, `S{`, `U{` and their `[`
 * forms, §3.1), or −1 for text that is not a message (e.g. PY's `PONG:<ms>`).
 */
function jsonStart(text: string): number {
  const first = text.charCodeAt(0);
  if (first === 0x7b) return 0;
  if ((first === 0x53 || first === 0x55) && isJsonOpen(text.charCodeAt(1))) return 1;
  if (first === 0x57 && text.startsWith('WSE') && isJsonOpen(text.charCodeAt(3))) return 3;
  return -1;
}

function isJsonOpen(code: number): boolean {
  return code === 0x7b || code === 0x5b;
}

function decodeMsgpack(bytes: Uint8Array): Inbound {
  const scan = scanMsgpack(bytes);
  if (scan === 'too_deep') return dropped('msgpack_depth');
  if (scan === 'invalid') return dropped('msgpack_invalid');
  let value: unknown;
  try {
    value = unpackr.unpack(bytes);
  } catch {
    return dropped('msgpack_invalid');
  }
  return toMessage(value, false);
}

/** §3.2 "anything else": UTF-8 JSON if it is that, else the bytes belong to the application. */
function decodeOtherBinary(bytes: Uint8Array): Inbound {
  const decoded = decodeText(bytes, false);
  return decoded.kind === 'message' ? decoded : { kind: 'application', bytes: bytes.slice() };
}

function toMessage(value: unknown, encrypted: boolean): Inbound {
  if (!isPlainRecord(value)) return dropped('not_object');
  const t = value['t'] ?? value['type'];
  const p = value['p'] ?? value['payload'];
  const cid = value['cid'];
  const msg: ClientMessage = {
    t: typeof t === 'string' ? t : '',
    p: isPlainRecord(p) ? p : {},
  };
  if (typeof cid === 'string') msg.cid = cid;
  return { kind: 'message', msg, encrypted };
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}
