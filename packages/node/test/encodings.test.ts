import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, createECDH, hkdfSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { pack } from 'msgpackr';
import { TestClient } from './client.js';
import { api, makeToken, startNode, type NodeProcess } from './harness.js';

/** The client half of PROTOCOL.md §13, written independently of the server's code. */
class ClientCrypto {
  private readonly ecdh = createECDH('prime256v1');
  readonly publicKey: string;
  private key: Buffer | null = null;

  constructor() {
    this.publicKey = this.ecdh.generateKeys().toString('base64');
  }

  derive(serverPublicKey: string): void {
    const shared = this.ecdh.computeSecret(Buffer.from(serverPublicKey, 'base64'));
    this.key = Buffer.from(hkdfSync('sha256', shared, Buffer.alloc(0), 'wse-encryption/aes-gcm-key', 32));
  }

  encrypt(text: string): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key!, iv);
    const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.from('E:'), iv, body, cipher.getAuthTag()]);
  }

  decrypt(frame: Buffer): string {
    const iv = frame.subarray(2, 14);
    const tag = frame.subarray(frame.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', this.key!, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(frame.subarray(14, frame.length - 16)), decipher.final()]).toString('utf8');
  }
}

describe('encodings (PROTOCOL.md §3, §13)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('a msgpack connection gets M: events but JSON text publications', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken(), query: 'format=msgpack&protocol_version=1' });
    client.sendRaw(Buffer.concat([Buffer.from('M:'), pack({ t: 'subscription_update', p: { action: 'subscribe', topics: ['mp'] } })]));
    const reply = await client.nextOfType('subscription_update');
    assert.equal(reply.binary, true);
    assert.equal(reply.raw.subarray(0, 2).toString(), 'M:');
    assert.deepEqual(reply.json!['p']['success_topics'], ['mp']);
    await api(node.port, '/api/publish', { topic: 'mp', data: { x: 1 } });
    const publication = await client.next((f) => f.json?.['tp'] === 'mp');
    assert.equal(publication.binary, false);
    assert.equal(JSON.parse(publication.raw.toString())['p']['x'], 1);
    await client.close();
  });

  test('per-connection events over the threshold go out as C: zlib (level-1 header 78 01)', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const topics = Array.from({ length: 60 }, (_, i) => `a-rather-long-topic-name-${i}`);
    client.send({ t: 'subscription_update', p: { action: 'subscribe', topics: ['one'] } });
    const small = await client.nextOfType('subscription_update');
    assert.equal(small.raw[0], 0x7b);
    client.send({ t: 'subscription_update', p: { action: 'subscribe', topics } });
    const big = await client.nextOfType('subscription_update');
    assert.deepEqual([...big.raw.subarray(0, 4)], [0x43, 0x3a, 0x78, 0x01]);
    assert.equal(big.json!['p']['success_topics'].length, 60);
    await client.close();
  });

  test('C:, raw zlib and M: frames from a JSON connection are all understood', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    const subscribe = JSON.stringify({ t: 'subscription_update', p: { action: 'subscribe', topics: ['z1'] } });
    client.sendRaw(Buffer.concat([Buffer.from('C:'), deflateSync(subscribe)]));
    assert.deepEqual((await client.nextOfType('subscription_update')).json!['p']['success_topics'], ['z1']);
    client.sendRaw(deflateSync(JSON.stringify({ t: 'subscription_update', p: { action: 'subscribe', topics: ['z2'] } })));
    assert.deepEqual((await client.nextOfType('subscription_update')).json!['p']['success_topics'], ['z2']);
    client.sendRaw(Buffer.concat([Buffer.from('M:'), pack({ t: 'ping', p: { timestamp: 42 } })]));
    assert.equal((await client.nextOfType('PONG')).json!['p']['client_timestamp'], 42);
    client.sendRaw('WSE{"t":"ping","p":{"timestamp":43}}', false);
    assert.equal((await client.nextOfType('PONG')).json!['p']['client_timestamp'], 43);
    await client.close();
  });

  test('end-to-end encryption: key exchange in client_hello, E: frames both ways, PONG stays plaintext', async () => {
    const crypto = new ClientCrypto();
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    // TS sends subscription_update before client_hello when encryption is on (§5).
    await client.subscribe(['secret']);
    client.send({ t: 'client_hello', p: { client_version: '2.4.1', protocol_version: 1, features: { encryption: true }, encryption_public_key: crypto.publicKey } });
    const hello = (await client.nextOfType('server_hello')).json!;
    assert.equal(hello['p']['features']['encryption'], true);
    crypto.derive(hello['p']['encryption_public_key']);

    await api(node.port, '/api/publish', { topic: 'secret', data: { classified: true } });
    const frame = await client.next((f) => f.binary && f.raw.subarray(0, 2).toString() === 'E:');
    const publication = JSON.parse(crypto.decrypt(frame.raw));
    assert.equal(publication['tp'], 'secret');
    assert.equal(publication['p']['classified'], true);

    client.sendRaw(crypto.encrypt(JSON.stringify({ t: 'ping', p: { timestamp: 7 } })));
    const pong = await client.nextOfType('PONG');
    assert.equal(pong.binary, false, 'PONG is plaintext text even for an encrypted ping');
    assert.equal(pong.json!['p']['client_timestamp'], 7);

    client.sendRaw(crypto.encrypt(JSON.stringify({ t: 'subscription_update', p: { action: 'subscribe', topics: ['s2'] } })));
    const encryptedReply = await client.next((f) => f.binary && f.raw.subarray(0, 2).toString() === 'E:');
    assert.deepEqual(JSON.parse(crypto.decrypt(encryptedReply.raw))['p']['success_topics'], ['s2']);

    client.send({ t: 'client_hello', p: { features: { encryption: true }, encryption_public_key: new ClientCrypto().publicKey } });
    const again = (await client.nextOfType('server_hello')).json!;
    assert.equal(again['p']['features']['encryption'], false, 'no re-keying');
    assert.equal(again['p']['encryption_public_key'], undefined);
    await client.close();
  });

  test('a bad client key gets KEY_EXCHANGE_FAILED and a server_hello without encryption', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'client_hello', p: { features: { encryption: true }, encryption_public_key: 'bm90IGEga2V5' } });
    const error = (await client.nextOfType('error')).json!;
    assert.equal(error['p']['code'], 'KEY_EXCHANGE_FAILED');
    assert.match(error['p']['message'], /^ECDH key exchange failed: (?!ECDH)/);
    const hello = (await client.nextOfType('server_hello')).json!;
    assert.equal(hello['p']['features']['encryption'], false);
    await client.close();
  });
});
