import { deflateSync } from 'node:zlib';
import { clientHeaderLength, writeClientFrame } from '../ws/client-frame.js';

export type InboundFormat = 'json' | 'msgpack' | 'compressed';
export const INBOUND_FORMATS: readonly InboundFormat[] = ['json', 'msgpack', 'compressed'];

const OPCODE_TEXT = 0x1;
const OPCODE_BINARY = 0x2;

/**
 * What the original's load client sends (PROTOCOL.md §3.2, §10): `trade_update` messages the server
 * hands to the application without a reply, as JSON text, `M:`+msgpack or `C:`+zlib binary frames.
 * `messageBytes` is the JSON's length; the other encodings carry the same fields.
 */
export function inboundMessage(seq: number, messageBytes: number): Record<string, unknown> {
  const bare = { t: 'trade_update', p: { symbol: 'WSE', price: 101.25, qty: 7, seq, pad: '' } };
  const pad = Math.max(0, messageBytes - JSON.stringify(bare).length);
  // Words, not one repeated byte: compression should find what a real message offers, not more.
  const words = 'bid ask last open close volume high low ';
  bare.p.pad = words.repeat(Math.ceil(pad / words.length)).slice(0, pad);
  return bare;
}

export function encodeInbound(format: InboundFormat, message: Record<string, unknown>): { opcode: number; payload: Buffer } {
  const json = Buffer.from(JSON.stringify(message));
  if (format === 'json') return { opcode: OPCODE_TEXT, payload: json };
  if (format === 'compressed') return { opcode: OPCODE_BINARY, payload: Buffer.concat([Buffer.from('C:'), deflateSync(json, { level: 1 })]) };
  return { opcode: OPCODE_BINARY, payload: Buffer.concat([Buffer.from('M:'), msgpack(message)]) };
}

/** `frames` masked client frames back to back, sequences 0…frames-1: written whole, again and again. */
export function inboundBlock(format: InboundFormat, messageBytes: number, frames: number): { block: Buffer; frameBytes: number } {
  const parts: Buffer[] = [];
  for (let seq = 0; seq < frames; seq++) {
    const { opcode, payload } = encodeInbound(format, inboundMessage(seq, messageBytes));
    const frame = Buffer.allocUnsafe(clientHeaderLength(payload.length) + payload.length);
    writeClientFrame(frame, 0, opcode, payload, 0, payload.length);
    parts.push(frame);
  }
  const block = Buffer.concat(parts);
  return { block, frameBytes: block.length / frames };
}

/**
 * The msgpack subset the messages above need (PROTOCOL.md §3.1: str-family strings and keys,
 * integers as integers, other numbers float64); the rest is not produced here.
 */
export function msgpack(value: unknown): Buffer {
  const out: Buffer[] = [];
  write(value, out);
  return Buffer.concat(out);
}

function write(value: unknown, out: Buffer[]): void {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value);
    const n = bytes.length;
    out.push(n < 32 ? Buffer.from([0xa0 | n]) : n < 0x100 ? Buffer.from([0xd9, n]) : Buffer.from([0xda, n >> 8, n & 0xff]), bytes);
  } else if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff) {
    if (value < 128) out.push(Buffer.from([value]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0xce;
      b.writeUInt32BE(value, 1);
      out.push(b);
    }
  } else if (typeof value === 'number') {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(value, 1);
    out.push(b);
  } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    if (entries.length > 15) throw new RangeError('msgpack: maps of up to 15 entries only');
    out.push(Buffer.from([0x80 | entries.length]));
    for (const [k, v] of entries) {
      write(k, out);
      write(v, out);
    }
  } else {
    throw new RangeError(`msgpack: unsupported value ${String(value)}`);
  }
}
