/**
 * Per-connection event encoding (PROTOCOL.md §3.1). Control frames (control-frames.ts) and
 * publications (publication.ts) do not come through here: they are text for everyone.
 */
import { deflateSync } from 'node:zlib';
import { Packr } from 'msgpackr';
import type { E2ECipher } from './e2e.js';

export interface OutboundConnection {
  msgpack: boolean;
  /** JSON strictly longer than this (bytes) goes out as `C:`; Infinity turns compression off. */
  compressionThreshold: number;
  cipher: E2ECipher | null;
}

const C_PREFIX = Buffer.from('C:');
const M_PREFIX = Buffer.from('M:');
// §3.1: str keys and strings, integers as integers, other numbers float64 (msgpackr's default with
// useFloat32 off); smallest map headers, as other msgpack encoders write them.
const packr = new Packr({ useRecords: false, variableMapSize: true });

/**
 * The binary frame body for one connection: `E:` JSON when encrypted (never msgpack or compressed,
 * §13), `M:` msgpack on `format=msgpack` connections, else JSON bytes or `C:` zlib level 1 (`78 01`).
 */
export function encodeEvent(event: object, conn: OutboundConnection): Uint8Array | string {
  if (conn.cipher !== null) return conn.cipher.encrypt(Buffer.from(JSON.stringify(event)));
  if (conn.msgpack) return withPrefix(M_PREFIX, packr.pack(toMsgpackValue(event)));
  const json = JSON.stringify(event);
  // The common case stays a string: uWS encodes it while sending, with no Buffer in between.
  if (staysUncompressed(json, conn.compressionThreshold)) return json;
  return withPrefix(C_PREFIX, deflateSync(json, { level: 1 }));
}

/** Whether JSON text goes out as is: at most `threshold` bytes (a UTF-16 unit is ≤ 3 UTF-8 bytes). */
export function staysUncompressed(json: string, threshold: number): boolean {
  return json.length * 3 <= threshold || Buffer.byteLength(json) <= threshold;
}

/** A publication (stamped text) for an end-to-end-encrypted subscriber (§8: same bytes inside `E:`). */
export function encryptText(text: string | Uint8Array, cipher: E2ECipher): Buffer {
  return cipher.encrypt(typeof text === 'string' ? Buffer.from(text) : text);
}

function withPrefix(prefix: Buffer, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + body.length);
  prefix.copy(out, 0);
  out.set(body, prefix.length);
  return out;
}

/**
 * The event's JSON data model for msgpackr: what JSON.stringify would keep (toJSON applied,
 * undefined and functions dropped), with integers beyond 32 bits as BigInt so msgpackr writes them
 * as int64 rather than float64 (offsets and millisecond timestamps stay integers).
 */
function toMsgpackValue(value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    return Number.isSafeInteger(value) && (value > 0xffffffff || value < -0x80000000) ? BigInt(value) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const json = (value as { toJSON?: unknown }).toJSON;
  if (typeof json === 'function') return toMsgpackValue(json.call(value));
  if (Array.isArray(value)) return value.map((item) => (isDropped(item) ? null : toMsgpackValue(item)));
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (isDropped(item)) continue;
    const packed = toMsgpackValue(item);
    // A topic may be named "__proto__": define it as data, never as the prototype.
    if (key === '__proto__') Object.defineProperty(out, key, { value: packed, enumerable: true, writable: true });
    else out[key] = packed;
  }
  return out;
}

function isDropped(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}
