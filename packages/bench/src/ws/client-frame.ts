import { randomFillSync } from 'node:crypto';

/**
 * Client-to-server frames (RFC 6455 §5.3): always masked. The load client sends few of them
 * (handshake replies, pongs, the publisher's batches), so a random key per frame costs nothing.
 */

const KEY_POOL_BYTES = 4096;
const keyPool = Buffer.alloc(KEY_POOL_BYTES);
let keyPoolPos = KEY_POOL_BYTES;

/** Header length of a client frame carrying `payloadLength` bytes, mask key included. */
export function clientHeaderLength(payloadLength: number): number {
  if (payloadLength < 126) return 6;
  return payloadLength < 0x10000 ? 8 : 14;
}

/**
 * Writes one final masked frame into `target` at `offset`; returns the offset after it.
 * `target` must hold clientHeaderLength(len) + len bytes from `offset`.
 */
export function writeClientFrame(
  target: Buffer,
  offset: number,
  opcode: number,
  payload: Buffer,
  start: number,
  end: number,
): number {
  const length = end - start;
  let pos = offset;
  target[pos++] = 0x80 | opcode;
  if (length < 126) {
    target[pos++] = 0x80 | length;
  } else if (length < 0x10000) {
    target[pos++] = 0x80 | 126;
    target.writeUInt16BE(length, pos);
    pos += 2;
  } else {
    target[pos++] = 0x80 | 127;
    target.writeUInt32BE(Math.floor(length / 0x100000000), pos);
    target.writeUInt32BE(length >>> 0, pos + 4);
    pos += 8;
  }
  if (keyPoolPos + 4 > KEY_POOL_BYTES) {
    randomFillSync(keyPool);
    keyPoolPos = 0;
  }
  const keyAt = keyPoolPos;
  keyPoolPos += 4;
  keyPool.copy(target, pos, keyAt, keyAt + 4);
  pos += 4;
  for (let i = 0; i < length; i++) {
    target[pos + i] = payload[start + i]! ^ keyPool[keyAt + (i & 3)]!;
  }
  return pos + length;
}

/** One masked frame in its own buffer: for the rare control and handshake messages. */
export function encodeClientFrame(opcode: number, payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const frame = Buffer.allocUnsafe(clientHeaderLength(bytes.length) + bytes.length);
  writeClientFrame(frame, 0, opcode, bytes, 0, bytes.length);
  return frame;
}
