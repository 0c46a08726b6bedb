/**
 * End-to-end encryption (PROTOCOL.md §13): ECDH P-256 with a fresh server key pair per connection,
 * HKDF-SHA256 over the shared X coordinate, AES-256-GCM frames `E:`‖IV(12)‖ciphertext‖tag(16).
 */
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomFillSync } from 'node:crypto';
import { WseError } from '../errors.js';

const HKDF_INFO = 'wse-encryption/aes-gcm-key';
const PREFIX = Buffer.from('E:');
const IV_BYTES = 12;
const TAG_BYTES = 16;
const MIN_FRAME = PREFIX.length + IV_BYTES + TAG_BYTES;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

// IVs come from a pooled random block: one syscall per 341 frames instead of one per frame.
const IV_POOL = Buffer.allocUnsafe(IV_BYTES * 341);
let ivPos = IV_POOL.length;

function nextIv(out: Buffer, at: number): void {
  if (ivPos === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivPos = 0;
  }
  IV_POOL.copy(out, at, ivPos, ivPos + IV_BYTES);
  ivPos += IV_BYTES;
}

export class E2ECipher {
  private readonly key: Buffer;

  private constructor(key: Buffer) {
    this.key = key;
  }

  /**
   * Derive this connection's key from the client's `encryption_public_key` (65-byte uncompressed
   * SEC1 point, standard base64). Throws WSE_ERR_KEY_EXCHANGE, whose message is the §11 text.
   */
  static fromClientPublicKey(b64: string): { cipher: E2ECipher; serverPublicKey: string } {
    const clientKey = decodePublicKey(b64);
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    let shared: Buffer;
    try {
      shared = ecdh.computeSecret(clientKey);
    } catch (cause) {
      throw keyExchangeError('public key is not a point on P-256', cause);
    }
    const key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), HKDF_INFO, 32));
    return { cipher: new E2ECipher(key), serverPublicKey: ecdh.getPublicKey('base64', 'uncompressed') };
  }

  /** `E:`‖IV‖ciphertext‖tag of `plaintext` under a fresh random IV. */
  encrypt(plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(MIN_FRAME + plaintext.length);
    PREFIX.copy(out, 0);
    nextIv(out, PREFIX.length);
    const iv = out.subarray(PREFIX.length, PREFIX.length + IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    let at = PREFIX.length + IV_BYTES;
    at += cipher.update(plaintext).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
    return out;
  }

  /** The plaintext of an `E:` frame, or null when it is too short, not `E:`, or fails the tag. */
  decrypt(frame: Uint8Array): Buffer | null {
    if (frame.length < MIN_FRAME || frame[0] !== PREFIX[0] || frame[1] !== PREFIX[1]) return null;
    const ivEnd = PREFIX.length + IV_BYTES;
    const tagStart = frame.length - TAG_BYTES;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, frame.subarray(PREFIX.length, ivEnd));
      decipher.setAuthTag(frame.subarray(tagStart));
      const head = decipher.update(frame.subarray(ivEnd, tagStart));
      const tail = decipher.final();
      return tail.length === 0 ? head : Buffer.concat([head, tail]);
    } catch {
      return null;
    }
  }
}

function decodePublicKey(b64: string): Buffer {
  if (typeof b64 !== 'string' || b64.length > 128 || b64.length % 4 !== 0 || !BASE64.test(b64)) {
    throw keyExchangeError('public key is not standard base64');
  }
  const key = Buffer.from(b64, 'base64');
  if (key.length !== 65 || key[0] !== 0x04) {
    throw keyExchangeError('public key is not a 65-byte uncompressed P-256 point');
  }
  return key;
}

function keyExchangeError(detail: string, cause?: unknown): WseError {
  return new WseError('WSE_ERR_KEY_EXCHANGE', `ECDH key exchange failed: ${detail}`, {
    protocolCode: 'KEY_EXCHANGE_FAILED',
    details: { detail },
    cause,
  });
}
