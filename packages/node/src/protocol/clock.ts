import { randomFillSync } from 'node:crypto';

/** RFC 3339 UTC with milliseconds and `Z` (PROTOCOL.md §4 `ts`). */
export function isoNow(): string {
  return new Date().toISOString();
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// Random bytes come from a pool refilled in blocks, so ids do not cost a syscall each.
const POOL = Buffer.allocUnsafe(4096);
let poolPos = POOL.length;

function randomByte(): number {
  if (poolPos === POOL.length) {
    randomFillSync(POOL);
    poolPos = 0;
  }
  return POOL[poolPos++]!;
}

let lastMs = -1;
// 12-bit counter in rand_a (RFC 9562 §6.2 method 1); seeded below 0x800 so a millisecond holds ≥ 2048 ids.
let counter = 0;

/**
 * UUIDv7 (RFC 9562), monotonic within this process: ids made in one millisecond increase by a
 * counter; if the counter runs out, or the clock steps back, the timestamp is carried forward.
 */
export function uuidv7(): string {
  const now = Date.now();
  if (now > lastMs) {
    lastMs = now;
    counter = ((randomByte() & 0x07) << 8) | randomByte();
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = ((randomByte() & 0x07) << 8) | randomByte();
  }
  const ms = lastMs;
  const hi = Math.floor(ms / 0x1000000); // upper 24 of the 48 timestamp bits
  const lo = ms % 0x1000000;
  return (
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (randomByte() & 0x3f)]! +
    HEX[randomByte()]! +
    '-' +
    HEX[randomByte()]! +
    HEX[randomByte()]! +
    HEX[randomByte()]! +
    HEX[randomByte()]! +
    HEX[randomByte()]! +
    HEX[randomByte()]!
  );
}
