/**
 * Structural check of an inbound msgpack value before it is decoded (PROTOCOL.md §3.2, §16): walks
 * the headers without materialising anything, so a nesting bomb is refused before msgpackr recurses
 * into it. Each step consumes at least one byte, so the walk is bounded by the input length.
 *
 * Only the JSON data model is accepted: ext types (msgpackr would build Sets, RegExps, Errors,
 * BigInts or record structures from them) and the reserved byte 0xc1 are invalid, as is anything
 * after the one top-level value.
 */
export const MAX_MSGPACK_DEPTH = 64;

export type MsgpackScan = 'ok' | 'too_deep' | 'invalid';

// Items still expected at each open level; level 0 holds the single top-level value.
const remaining = new Float64Array(MAX_MSGPACK_DEPTH + 1);

export function scanMsgpack(bytes: Uint8Array, maxDepth: number = MAX_MSGPACK_DEPTH): MsgpackScan {
  const limit = Math.min(maxDepth, MAX_MSGPACK_DEPTH);
  const end = bytes.length;
  let pos = 0;
  let depth = 0;
  remaining[0] = 1;
  for (;;) {
    while (depth > 0 && remaining[depth] === 0) depth--;
    if (remaining[depth] === 0) return pos === end ? 'ok' : 'invalid';
    if (pos >= end) return 'invalid';
    remaining[depth]!--;
    const b = bytes[pos++]!;
    let skip = 0;
    let items = -1;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) skip = 0;
    else if (b <= 0x8f) items = (b & 0x0f) * 2;
    else if (b <= 0x9f) items = b & 0x0f;
    else if (b <= 0xbf) skip = b & 0x1f;
    else {
      const width = HEADER_WIDTH[b - 0xc0]!;
      if (width < 0 || pos + width > end) return 'invalid';
      const n = readUint(bytes, pos, width);
      pos += width;
      const kind = HEADER_KIND[b - 0xc0]!;
      if (kind === FIXED) skip = FIXED_SIZE[b - 0xc0]!;
      else if (kind === SIZED) skip = n;
      else items = kind === MAP ? n * 2 : n;
    }
    if (items >= 0) {
      if (depth + 1 > limit) return 'too_deep';
      if (items > end - pos) return 'invalid';
      remaining[++depth] = items;
    } else {
      pos += skip;
      if (pos > end) return 'invalid';
    }
  }
}

const FIXED = 0;
const SIZED = 1;
const ARRAY = 2;
const MAP = 3;

// Indexed by (byte − 0xc0): bytes of length field (−1 = not accepted), what follows, fixed payload size.
const HEADER_WIDTH: number[] = [];
const HEADER_KIND: number[] = [];
const FIXED_SIZE: number[] = [];

function define(byte: number, width: number, kind: number, fixedSize = 0): void {
  HEADER_WIDTH[byte - 0xc0] = width;
  HEADER_KIND[byte - 0xc0] = kind;
  FIXED_SIZE[byte - 0xc0] = fixedSize;
}

for (let b = 0xc0; b <= 0xdf; b++) define(b, -1, FIXED);
define(0xc4, 1, SIZED); // bin 8/16/32
define(0xc5, 2, SIZED);
define(0xc6, 4, SIZED);
define(0xca, 0, FIXED, 4); // float 32/64
define(0xcb, 0, FIXED, 8);
define(0xcc, 0, FIXED, 1); // uint 8..64
define(0xcd, 0, FIXED, 2);
define(0xce, 0, FIXED, 4);
define(0xcf, 0, FIXED, 8);
define(0xd0, 0, FIXED, 1); // int 8..64
define(0xd1, 0, FIXED, 2);
define(0xd2, 0, FIXED, 4);
define(0xd3, 0, FIXED, 8);
define(0xd9, 1, SIZED); // str 8/16/32
define(0xda, 2, SIZED);
define(0xdb, 4, SIZED);
define(0xdc, 2, ARRAY);
define(0xdd, 4, ARRAY);
define(0xde, 2, MAP);
define(0xdf, 4, MAP);

function readUint(bytes: Uint8Array, at: number, width: number): number {
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + bytes[at + i]!;
  return n;
}
