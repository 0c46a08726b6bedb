import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import { WseError } from '../src/errors.js';
import { E2ECipher } from '../src/protocol/e2e.js';

const subtle = webcrypto.subtle;

/** The browser side of PROTOCOL.md §13, written with WebCrypto only. */
async function browserClient(): Promise<{ publicKey: string; deriveKey(serverKeyB64: string): Promise<webcrypto.CryptoKey> }> {
  const pair = await subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
  const raw = Buffer.from(await subtle.exportKey('raw', pair.publicKey));
  return {
    publicKey: raw.toString('base64'),
    async deriveKey(serverKeyB64) {
      const serverKey = await subtle.importKey('raw', Buffer.from(serverKeyB64, 'base64'), { name: 'ECDH', namedCurve: 'P-256' }, false, []);
      const shared = await subtle.deriveBits({ name: 'ECDH', public: serverKey }, pair.privateKey, 256);
      const hkdfKey = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
      return subtle.deriveKey(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: new TextEncoder().encode('wse-encryption/aes-gcm-key') },
        hkdfKey,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      );
    },
  };
}

async function browserEncrypt(key: webcrypto.CryptoKey, text: string): Promise<Buffer> {
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const sealed = Buffer.from(await subtle.encrypt({ name: 'AES-GCM', iv }, key, new TextEncoder().encode(text)));
  return Buffer.concat([Buffer.from('E:'), iv, sealed]);
}

async function browserDecrypt(key: webcrypto.CryptoKey, frame: Uint8Array): Promise<string> {
  assert.equal(Buffer.from(frame.subarray(0, 2)).toString(), 'E:');
  const plain = await subtle.decrypt({ name: 'AES-GCM', iv: frame.subarray(2, 14) }, key, frame.subarray(14));
  return new TextDecoder().decode(plain);
}

function expectKeyExchangeError(fn: () => unknown, detail: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WseError);
    assert.equal(error.code, 'WSE_ERR_KEY_EXCHANGE');
    assert.equal(error.protocolCode, 'KEY_EXCHANGE_FAILED');
    assert.match(error.message, /^ECDH key exchange failed: /);
    assert.match(String(error.details?.['detail']), detail);
    return true;
  });
}

describe('end-to-end encryption (PROTOCOL.md §13)', () => {
  it('interoperates with a WebCrypto client in both directions', async () => {
    const client = await browserClient();
    const { cipher, serverPublicKey } = E2ECipher.fromClientPublicKey(client.publicKey);
    const serverKeyBytes = Buffer.from(serverPublicKey, 'base64');
    assert.equal(serverKeyBytes.length, 65);
    assert.equal(serverKeyBytes[0], 0x04);
    const key = await client.deriveKey(serverPublicKey);

    const toClient = '{"c":"U","t":"chat","p":{"text":"héllo ✓"},"v":1}';
    const frame = cipher.encrypt(Buffer.from(toClient));
    assert.equal(frame.length, 2 + 12 + Buffer.byteLength(toClient) + 16);
    assert.equal(await browserDecrypt(key, frame), toClient);

    const toServer = '{"c":"WSE","t":"ping","p":{"timestamp":1},"v":1}';
    assert.equal(cipher.decrypt(await browserEncrypt(key, toServer))!.toString(), toServer);
  });

  it('uses a fresh server key pair and a fresh IV every time', async () => {
    const client = await browserClient();
    const a = E2ECipher.fromClientPublicKey(client.publicKey);
    const b = E2ECipher.fromClientPublicKey(client.publicKey);
    assert.notEqual(a.serverPublicKey, b.serverPublicKey);
    const ivs = new Set<string>();
    for (let i = 0; i < 500; i++) ivs.add(a.cipher.encrypt(Buffer.from('x')).subarray(2, 14).toString('hex'));
    assert.equal(ivs.size, 500);
  });

  it('encrypts and decrypts an empty plaintext (the 30-byte minimum frame)', () => {
    const { cipher } = E2ECipher.fromClientPublicKey(Buffer.from(webcryptoFreePoint()).toString('base64'));
    const frame = cipher.encrypt(new Uint8Array(0));
    assert.equal(frame.length, 30);
    assert.equal(cipher.decrypt(frame)!.length, 0);
  });

  it('returns null for short, mislabelled or tampered frames', async () => {
    const client = await browserClient();
    const { cipher } = E2ECipher.fromClientPublicKey(client.publicKey);
    const frame = cipher.encrypt(Buffer.from('{"t":"x"}'));
    assert.equal(cipher.decrypt(frame.subarray(0, 29)), null);
    const relabelled = Buffer.from(frame);
    relabelled[0] = 0x43;
    assert.equal(cipher.decrypt(relabelled), null);
    for (const at of [3, 15, frame.length - 1]) {
      const tampered = Buffer.from(frame);
      tampered[at]! ^= 0x80;
      assert.equal(cipher.decrypt(tampered), null, `flip at ${at}`);
    }
  });

  it('refuses bad client keys with KEY_EXCHANGE_FAILED and a detail', () => {
    expectKeyExchangeError(() => E2ECipher.fromClientPublicKey('not base64 at all!'), /base64/);
    expectKeyExchangeError(() => E2ECipher.fromClientPublicKey(Buffer.alloc(33, 2).toString('base64')), /65-byte/);
    expectKeyExchangeError(() => E2ECipher.fromClientPublicKey(Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64')), /not a point/);
    expectKeyExchangeError(() => E2ECipher.fromClientPublicKey(42 as unknown as string), /base64/);
  });
});

/** A valid uncompressed P-256 point (the curve's generator). */
function webcryptoFreePoint(): Uint8Array {
  return Buffer.from(
    '04' +
      '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296' +
      '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
    'hex',
  );
}
