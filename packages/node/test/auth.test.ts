import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CompactSign, SignJWT, exportJWK, type JWTPayload } from 'jose';
import { createAuthenticator, signDevToken, type AuthResult, type Identity } from '../src/auth/index.js';
import type { AuthConfig } from '../src/config/types.js';

const SECRET = 'current-secret-that-is-32-bytes-long';
const PREVIOUS = 'previous-secret-that-is-32-bytes-long';
const NOW = 1_800_000_000;
const clock = { now: () => NOW };
const enc = new TextEncoder();

function config(over: Partial<AuthConfig> = {}): AuthConfig {
  return {
    mode: 'jwt', algorithm: 'HS256', secret: SECRET, previousSecret: null, publicKey: null, jwksUrl: null,
    issuer: null, audience: null, keyId: null, cookieName: 'access_token', ...over,
  };
}

interface SignOptions {
  key?: Uint8Array | KeyObject;
  alg?: string;
  kid?: string;
}

function sign(claims: JWTPayload, opts: SignOptions = {}): Promise<string> {
  const alg = opts.alg ?? 'HS256';
  return new SignJWT(claims)
    .setProtectedHeader(opts.kid === undefined ? { alg } : { alg, kid: opts.kid })
    .sign(opts.key ?? enc.encode(SECRET));
}

const valid = (extra: JWTPayload = {}): JWTPayload => ({ sub: 'alice', exp: NOW + 3600, ...extra });

async function bearer(cfg: AuthConfig, token: string): Promise<AuthResult> {
  const auth = await createAuthenticator(cfg, clock);
  return auth.authenticate('', `Bearer ${token}`);
}

function identity(result: AuthResult): Identity {
  assert.ok(result.ok, `expected success, got ${JSON.stringify(result)}`);
  return result.identity;
}

function failure(result: AuthResult, reason: string, code = 'AUTH_FAILED', message = 'Authentication failed'): void {
  assert.deepEqual(result, { ok: false, code, message, reason });
}

describe('token lookup (PROTOCOL.md §2)', () => {
  let token: string;
  before(async () => {
    token = await sign(valid());
  });

  it('no token: AUTH_REQUIRED with the exact text', async () => {
    const auth = await createAuthenticator(config(), clock);
    failure(await auth.authenticate('', ''), 'missing', 'AUTH_REQUIRED', 'No JWT cookie or Authorization header');
  });

  it('cookie among others, with spaces around name and value', async () => {
    const auth = await createAuthenticator(config(), clock);
    assert.equal(identity(await auth.authenticate(`theme=dark;  access_token=  ${token} ; lang=en`, '')).userId, 'alice');
    assert.equal(identity(await auth.authenticate(`access_token=${token}`, '')).userId, 'alice');
  });

  it('empty, "undefined" and "null" cookies are absent; the header is the fallback', async () => {
    const auth = await createAuthenticator(config(), clock);
    for (const cookie of ['access_token=', 'access_token= ', 'access_token=undefined', 'access_token=null']) {
      failure(await auth.authenticate(cookie, ''), 'missing', 'AUTH_REQUIRED', 'No JWT cookie or Authorization header');
      assert.ok((await auth.authenticate(cookie, `Bearer ${token}`)).ok, cookie);
    }
  });

  it('cookie names match exactly', async () => {
    const auth = await createAuthenticator(config(), clock);
    for (const cookie of [`xaccess_token=${token}`, `access_token2=${token}`, `ACCESS_TOKEN=${token}`]) {
      assert.equal((await auth.authenticate(cookie, '')).ok, false, cookie);
    }
  });

  it('the cookie wins over the header', async () => {
    const auth = await createAuthenticator(config(), clock);
    const other = await sign(valid({ sub: 'bob' }));
    assert.equal(identity(await auth.authenticate(`access_token=${token}`, `Bearer ${other}`)).userId, 'alice');
    failure(await auth.authenticate('access_token=garbage', `Bearer ${other}`), 'malformed');
  });

  it('a configured cookie name', async () => {
    const auth = await createAuthenticator(config({ cookieName: 'sid' }), clock);
    assert.ok((await auth.authenticate(`sid=${token}`, '')).ok);
    assert.equal((await auth.authenticate(`access_token=${token}`, '')).ok, false);
  });

  it('bearer prefix is case-insensitive and needs the space', async () => {
    const auth = await createAuthenticator(config(), clock);
    for (const prefix of ['Bearer ', 'bearer ', 'BEARER ', 'bEaReR ']) {
      assert.ok((await auth.authenticate('', `${prefix}${token}`)).ok, prefix);
    }
    for (const header of [`Bearer${token}`, `Basic ${token}`, token, 'Bearer ', 'Bearer']) {
      failure(await auth.authenticate('', header), 'missing', 'AUTH_REQUIRED', 'No JWT cookie or Authorization header');
    }
  });

  it('tokens over 8192 bytes are refused before parsing', async () => {
    const padded = await sign(valid({ pad: 'x'.repeat(8192) }));
    failure(await bearer(config(), padded), 'too_large');
    const fits = await sign(valid({ pad: 'x'.repeat(5000) }));
    assert.ok(Buffer.byteLength(fits) <= 8192);
    assert.ok((await bearer(config(), fits)).ok);
  });

  it('malformed tokens', async () => {
    for (const token of ['not-a-jwt', 'a.b.c', '..', 'a.b']) failure(await bearer(config(), token), 'malformed');
    const notJson = await new CompactSign(enc.encode('not json')).setProtectedHeader({ alg: 'HS256' }).sign(enc.encode(SECRET));
    failure(await bearer(config(), notJson), 'malformed');
  });
});

describe('HS256 validation', () => {
  it('a valid token gives the identity and its claims', async () => {
    const id = identity(await bearer(config(), await sign(valid({ role: 'admin' }))));
    assert.equal(id.userId, 'alice');
    assert.equal(id.claims.role, 'admin');
  });

  it('alg must equal the configured algorithm', async () => {
    failure(await bearer(config(), await sign(valid(), { alg: 'HS384' })), 'bad_alg');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(valid())).toString('base64url')}.`;
    failure(await bearer(config(), none), 'bad_alg');
  });

  it('wrong secret', async () => {
    failure(await bearer(config(), await sign(valid(), { key: enc.encode('another-secret-that-is-32-bytes-long') })), 'bad_signature');
  });

  it('kid must equal the configured key id', async () => {
    const cfg = config({ keyId: 'k1' });
    assert.ok((await bearer(cfg, await sign(valid(), { kid: 'k1' }))).ok);
    failure(await bearer(cfg, await sign(valid(), { kid: 'k2' })), 'bad_kid');
    failure(await bearer(cfg, await sign(valid())), 'bad_kid');
    assert.ok((await bearer(config(), await sign(valid(), { kid: 'anything' }))).ok, 'no key id configured: kid ignored');
  });

  it('rotation: the previous secret is tried after a signature or kid failure, kid unchecked', async () => {
    const cfg = config({ previousSecret: PREVIOUS, keyId: 'k2' });
    const old = enc.encode(PREVIOUS);
    assert.ok((await bearer(cfg, await sign(valid(), { key: old }))).ok, 'old token without kid');
    assert.ok((await bearer(cfg, await sign(valid(), { key: old, kid: 'k1' }))).ok, 'old token with the old kid');
    assert.ok((await bearer(cfg, await sign(valid(), { kid: 'k2' }))).ok, 'new token');
    failure(await bearer(cfg, await sign(valid(), { key: enc.encode('third-secret-that-is-also-32-bytes!'), kid: 'k2' })), 'bad_signature');
    failure(await bearer(cfg, await sign(valid(), { kid: 'k9' })), 'bad_kid', 'AUTH_FAILED');
    failure(await bearer(config({ previousSecret: PREVIOUS }), await sign(valid({ exp: NOW - 100 }), { key: old })), 'expired');
  });

  it('exp is required, with 30 s leeway', async () => {
    failure(await bearer(config(), await sign({ sub: 'alice' })), 'bad_claims');
    failure(await bearer(config(), await sign({ sub: 'alice', exp: 'tomorrow' } as unknown as JWTPayload)), 'bad_claims');
    assert.ok((await bearer(config(), await sign(valid({ exp: NOW - 29 })))).ok);
    failure(await bearer(config(), await sign(valid({ exp: NOW - 30 }))), 'expired');
    failure(await bearer(config(), await sign(valid({ exp: NOW - 3600 }))), 'expired');
  });

  it('nbf, when present, with 30 s leeway', async () => {
    assert.ok((await bearer(config(), await sign(valid({ nbf: NOW + 30 })))).ok);
    failure(await bearer(config(), await sign(valid({ nbf: NOW + 31 }))), 'not_yet_valid');
    failure(await bearer(config(), await sign(valid({ nbf: 'soon' } as unknown as JWTPayload))), 'bad_claims');
  });

  it('iat is not checked', async () => {
    assert.ok((await bearer(config(), await sign(valid({ iat: NOW + 86400 })))).ok);
    assert.ok((await bearer(config(), await sign(valid({ iat: 'whenever' } as unknown as JWTPayload)))).ok);
  });

  it('iss when configured', async () => {
    const cfg = config({ issuer: 'wse-bench' });
    assert.ok((await bearer(cfg, await sign(valid({ iss: 'wse-bench' })))).ok);
    failure(await bearer(cfg, await sign(valid({ iss: 'someone-else' }))), 'bad_issuer');
    failure(await bearer(cfg, await sign(valid())), 'bad_issuer');
    assert.ok((await bearer(config(), await sign(valid({ iss: 'anyone' })))).ok, 'not configured: not checked');
  });

  it('aud when configured: a string or an array containing it', async () => {
    const cfg = config({ audience: 'wse' });
    assert.ok((await bearer(cfg, await sign(valid({ aud: 'wse' })))).ok);
    assert.ok((await bearer(cfg, await sign(valid({ aud: ['other', 'wse'] })))).ok);
    failure(await bearer(cfg, await sign(valid({ aud: ['other'] }))), 'bad_audience');
    failure(await bearer(cfg, await sign(valid({ aud: 'other' }))), 'bad_audience');
    failure(await bearer(cfg, await sign(valid())), 'bad_audience');
  });

  it('sub must be a non-empty string: "Token missing user ID"', async () => {
    for (const claims of [{ exp: NOW + 60 }, { exp: NOW + 60, sub: '' }, { exp: NOW + 60, sub: 42 }]) {
      failure(await bearer(config(), await sign(claims as JWTPayload)), 'no_sub', 'AUTH_FAILED', 'Token missing user ID');
    }
  });
});

describe('claims to ACLs', () => {
  it('absent wse_topics allows all; absent wse_publish forbids publishing', async () => {
    const id = identity(await bearer(config(), await sign(valid())));
    assert.equal(id.topics.allows('anything'), true);
    assert.equal(id.publish, null);
  });

  it('wse_topics and wse_publish become ACLs', async () => {
    const id = identity(await bearer(config(), await sign(valid({
      wse_topics: { allow: ['chat:*'], deny: ['chat:admin'] },
      wse_publish: { allow: ['chat:*'] },
    }))));
    assert.equal(id.topics.allows('chat:1'), true);
    assert.equal(id.topics.allows('chat:admin'), false);
    assert.equal(id.topics.allows('news'), false);
    assert.equal(id.publish?.allows('chat:1'), true);
    assert.equal(id.publish?.allows('news'), false);
  });

  it('malformed claims deny everything instead of failing the connection', async () => {
    const id = identity(await bearer(config(), await sign(valid({ wse_topics: 'chat:*', wse_publish: { allow: [1] } }))));
    assert.equal(id.topics.allows('chat:1'), false);
    assert.equal(id.publish?.allows('chat:1'), false);
  });
});

describe('anonymous mode (--no-auth)', () => {
  it('accepts everyone with every permission and ignores tokens', async () => {
    const auth = await createAuthenticator(config({ mode: 'none', secret: null }), clock);
    for (const [cookie, header] of [['', ''], ['access_token=garbage', 'Bearer garbage']] as const) {
      const id = identity(await auth.authenticate(cookie, header));
      assert.equal(id.userId, null);
      assert.equal(id.topics.allows('x'), true);
      assert.equal(id.publish?.allows('x'), true);
    }
  });
});

describe('RS256 and ES256 with PEM keys', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

  it('RS256', async () => {
    const cfg = config({ algorithm: 'RS256', secret: null, publicKey: pem(rsa.publicKey) });
    assert.equal(identity(await bearer(cfg, await sign(valid(), { alg: 'RS256', key: rsa.privateKey }))).userId, 'alice');
    failure(await bearer(cfg, await sign(valid(), { alg: 'RS256', key: rsaOther.privateKey })), 'bad_signature');
    failure(await bearer(cfg, await sign(valid())), 'bad_alg', 'AUTH_FAILED');
    failure(await bearer(cfg, await sign(valid({ exp: NOW - 31 }), { alg: 'RS256', key: rsa.privateKey })), 'expired');
  });

  it('ES256', async () => {
    const cfg = config({ algorithm: 'ES256', secret: null, publicKey: pem(ec.publicKey) });
    assert.ok((await bearer(cfg, await sign(valid(), { alg: 'ES256', key: ec.privateKey }))).ok);
    failure(await bearer(cfg, await sign(valid(), { alg: 'RS256', key: rsa.privateKey })), 'bad_alg');
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    failure(await bearer(cfg, await sign(valid(), { alg: 'ES256', key: other.privateKey })), 'bad_signature');
  });
});

describe('JWKS URL', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let server: Server;
  let base: string;
  let requests = 0;
  let status = 200;

  before(async () => {
    const jwk = { ...(await exportJWK(ec.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      requests++;
      if (req.url !== '/jwks.json' || status !== 200) {
        res.writeHead(status === 200 ? 404 : status).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('verifies against the fetched key set and caches it', async () => {
    status = 200;
    const auth = await createAuthenticator(config({ algorithm: 'ES256', secret: null, jwksUrl: `${base}/jwks.json` }), clock);
    const before = requests;
    for (let i = 0; i < 3; i++) {
      const token = await sign(valid({ sub: `user-${i}` }), { alg: 'ES256', key: ec.privateKey, kid: 'key-1' });
      assert.equal(identity(await auth.authenticate(`access_token=${token}`, '')).userId, `user-${i}`);
    }
    assert.equal(requests - before, 1, 'one fetch for three tokens');
    const forged = await sign(valid(), { alg: 'ES256', key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, kid: 'key-1' });
    failure(await auth.authenticate(`access_token=${forged}`, ''), 'bad_signature');
    const unknown = await sign(valid(), { alg: 'ES256', key: ec.privateKey, kid: 'key-9' });
    failure(await auth.authenticate(`access_token=${unknown}`, ''), 'unknown_key');
  });

  it('a failing key server is jwks_unavailable', async () => {
    status = 503;
    const auth = await createAuthenticator(config({ algorithm: 'ES256', secret: null, jwksUrl: `${base}/jwks.json` }), clock);
    const token = await sign(valid(), { alg: 'ES256', key: ec.privateKey, kid: 'key-1' });
    failure(await auth.authenticate('', `Bearer ${token}`), 'jwks_unavailable');
    status = 200;
  });

  it('an unreachable key server is jwks_unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const auth = await createAuthenticator(config({ algorithm: 'ES256', secret: null, jwksUrl: `http://127.0.0.1:${port}/jwks.json` }), clock);
    const token = await sign(valid(), { alg: 'ES256', key: ec.privateKey, kid: 'key-1' });
    failure(await auth.authenticate('', `Bearer ${token}`), 'jwks_unavailable');
  });
});

describe('signDevToken', () => {
  it('signs a token the authenticator accepts, with issuer, audience, key id and claims', async () => {
    const token = await signDevToken(SECRET, {
      sub: 'carol', ttlSeconds: 60, issuer: 'wse', audience: 'clients', keyId: 'dev',
      claims: { wse_publish: { allow: ['*'] } },
    });
    const auth = await createAuthenticator(config({ issuer: 'wse', audience: 'clients', keyId: 'dev' }));
    const id = identity(await auth.authenticate('', `Bearer ${token}`));
    assert.equal(id.userId, 'carol');
    assert.equal(id.publish?.allows('anything'), true);
    const exp = id.claims.exp as number;
    assert.ok(Math.abs(exp - (Date.now() / 1000 + 60)) < 5, `exp ${exp}`);
  });
});
