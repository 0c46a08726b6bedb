import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, redactConfig, startOptions } from '../src/config/load.js';
import { reloadConfig } from '../src/config/reload.js';
import { ConfigError } from '../src/errors.js';

const SECRET = 'a-test-secret-that-is-32-bytes-long!';
const KEYED = { jwtSecret: SECRET };
const dir = mkdtempSync(join(tmpdir(), 'wse-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(content: string): string {
  const path = join(dir, `f${files++}`);
  writeFileSync(path, content);
  return path;
}

/** yargs as `wse start` uses it (the package ships no types). */
async function parseArgs(args: string[]): Promise<Record<string, unknown>> {
  const { default: yargs } = (await import('yargs' as string)) as {
    default: (a: string[]) => { options(o: object): { strict(): { parseSync(): Record<string, unknown> } } };
  };
  return yargs(args).options(startOptions).strict().parseSync();
}

async function rejectsWith(promise: Promise<unknown>, setting: string, fragment?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.setting, setting);
    assert.equal(err.code, 'WSE_ERR_CONFIG_INVALID');
    assert.ok(!err.message.includes('\n'), 'one line');
    assert.ok(err.message.startsWith(`invalid setting ${setting}=`), err.message);
    if (fragment !== undefined) assert.ok(err.message.includes(fragment), err.message);
    return true;
  });
}

describe('config defaults', () => {
  it('match PROTOCOL.md §16 and the flag list', async () => {
    const cfg = await loadConfig(KEYED, {});
    assert.equal(cfg.host, '0.0.0.0');
    assert.equal(cfg.port, 5006);
    assert.equal(cfg.metricsPort, 6006);
    assert.equal(cfg.workers, availableParallelism());
    assert.equal(cfg.nodeId, hostname());
    assert.equal(cfg.dev, false);
    assert.deepEqual(cfg.auth, {
      mode: 'jwt', algorithm: 'HS256', secret: SECRET, previousSecret: null, publicKey: null, jwksUrl: null,
      issuer: null, audience: null, keyId: null, cookieName: 'access_token',
    });
    assert.equal(cfg.apiKey, null);
    assert.deepEqual(cfg.limits, {
      maxConnections: 1000, maxMessageSize: 1048576, maxSubscriptionsPerConnection: 1000, maxTopicLength: 256,
      maxOutboundQueueBytes: 16 * 1024 * 1024, maxInflightPublishes: 1024, maxPendingUpgrades: 512,
      upgradeTimeoutMs: 10_000, presenceMaxMembers: 0, presenceMaxDataBytes: 4096,
    });
    assert.deepEqual(cfg.rateLimit, { capacity: 100_000, refillPerSecond: 10_000 });
    assert.equal(cfg.pingIntervalMs, 25_000);
    assert.equal(cfg.idleTimeoutMs, 60_000);
    assert.deepEqual(cfg.recovery, { bufferSize: 128, ttlMs: 300_000, maxMessages: 500, memoryBudgetBytes: 256 * 1024 * 1024 });
    assert.equal(cfg.compressionThreshold, 1024);
    assert.equal(cfg.fanoutBacklogBytes, 64 * 1024 * 1024);
    assert.equal(cfg.presenceEnabled, true);
    assert.equal(cfg.signingKey, null);
    assert.equal(cfg.drainTimeoutMs, 10_000);
    assert.equal(cfg.logLevel, 'info');
  });

  it('startOptions declares no yargs defaults', () => {
    for (const [name, option] of Object.entries(startOptions)) {
      assert.ok(!('default' in option), name);
      assert.ok(option.describe.length > 0, name);
    }
    assert.equal(startOptions.auth?.type, 'boolean');
    assert.equal(startOptions.presence?.type, 'boolean');
    assert.equal(startOptions['print-config']?.type, 'boolean');
    assert.equal(startOptions['recovery-memory-budget']?.type, 'string');
  });
});

describe('config sources', () => {
  const portFile = file(JSON.stringify({ port: 7000, jwtSecret: SECRET, logLevel: 'debug' }));

  it('defaults < file < env < flags', async () => {
    assert.equal((await loadConfig({ config: portFile }, {})).port, 7000);
    assert.equal((await loadConfig({ config: portFile }, { WSE_PORT: '7001' })).port, 7001);
    assert.equal((await loadConfig({ config: portFile, port: '7002' }, { WSE_PORT: '7001' })).port, 7002);
    const cfg = await loadConfig({ config: portFile }, { WSE_PORT: '7001' });
    assert.equal(cfg.logLevel, 'debug', 'file value survives where env is silent');
    assert.equal(cfg.metricsPort, 8001, 'default metrics port follows the effective port');
  });

  it('WSE_CONFIG names the file; an empty variable counts as unset', async () => {
    const cfg = await loadConfig({}, { WSE_CONFIG: portFile, WSE_PORT: '' });
    assert.equal(cfg.port, 7000);
  });

  it('flags absent from a real yargs parse do not mask env or file', async () => {
    const argv = await parseArgs(['--config', portFile]);
    const cfg = await loadConfig(argv, { WSE_MAX_CONNECTIONS: '5', WSE_PRESENCE: 'false' });
    assert.equal(cfg.port, 7000);
    assert.equal(cfg.limits.maxConnections, 5);
    assert.equal(cfg.presenceEnabled, false);
  });

  it('parses real command lines: kebab flags, negations, repeats', async () => {
    const argv = await parseArgs(['--no-auth', '--no-presence', '--metrics-port', '9000', '--port', '1', '--port', '2', '--dev']);
    const cfg = await loadConfig(argv, { WSE_PRESENCE: 'true' });
    assert.equal(cfg.auth.mode, 'none');
    assert.equal(cfg.presenceEnabled, false);
    assert.equal(cfg.metricsPort, 9000);
    assert.equal(cfg.port, 2, 'the last repeat wins');
    assert.equal(cfg.dev, true);
  });

  it('env names are WSE_ + upper snake of the flag', async () => {
    const cfg = await loadConfig({}, {
      WSE_JWT_SECRET: SECRET,
      WSE_MAX_SUBSCRIPTIONS_PER_CONNECTION: '0',
      WSE_RECOVERY_MEMORY_BUDGET: '64KiB',
      WSE_JWT_COOKIE_NAME: 'sid',
      WSE_PING_INTERVAL: '0.5',
      WSE_IDLE_TIMEOUT: '1.5',
    });
    assert.equal(cfg.limits.maxSubscriptionsPerConnection, 0);
    assert.equal(cfg.recovery.memoryBudgetBytes, 65536);
    assert.equal(cfg.auth.cookieName, 'sid');
    assert.equal(cfg.pingIntervalMs, 500);
    assert.equal(cfg.idleTimeoutMs, 1500);
    assert.equal((await loadConfig({}, { WSE_NO_AUTH: '1' })).auth.mode, 'none');
  });

  it('sizes take plain bytes or KiB/MiB/GiB', async () => {
    const sizes: Array<[string, number]> = [['4096', 4096], ['64KiB', 65536], ['1.5 KiB', 1536], ['256mib', 268435456], ['1GiB', 1073741824]];
    for (const [raw, bytes] of sizes) {
      assert.equal((await loadConfig({ ...KEYED, recoveryMemoryBudget: raw }, {})).recovery.memoryBudgetBytes, bytes, raw);
    }
    for (const raw of ['12XB', '-1', '1.5', '', 'MiB']) {
      await rejectsWith(loadConfig({ ...KEYED, recoveryMemoryBudget: raw }, {}), '--recovery-memory-budget');
    }
  });

  it('recovery buffer size rounds up to a power of two', async () => {
    for (const [raw, slots] of [['16', 16], ['100', 128], ['129', 256], ['1024', 1024]] as const) {
      assert.equal((await loadConfig({ ...KEYED, recoveryBufferSize: raw }, {})).recovery.bufferSize, slots);
    }
    await rejectsWith(loadConfig({ ...KEYED, recoveryBufferSize: '15' }, {}), '--recovery-buffer-size', 'from 16');
  });

  it('workers: auto or a count', async () => {
    assert.equal((await loadConfig({ ...KEYED, workers: 'auto' }, {})).workers, availableParallelism());
    assert.equal((await loadConfig({ ...KEYED, workers: '3' }, {})).workers, 3);
    await rejectsWith(loadConfig({ ...KEYED, workers: '0' }, {}), '--workers');
    await rejectsWith(loadConfig({ ...KEYED, workers: 'many' }, {}), '--workers');
  });
});

describe('config file errors', () => {
  it('unreadable file', async () => {
    await rejectsWith(loadConfig({ config: join(dir, 'missing.json') }, {}), '--config', 'ENOENT');
  });
  it('bad JSON', async () => {
    await rejectsWith(loadConfig({ config: file('{"port": 5006,') }, {}), '--config', 'a JSON file');
  });
  it('not an object', async () => {
    await rejectsWith(loadConfig({ config: file('[1]') }, {}), '--config', 'JSON object');
  });
  it('unknown key', async () => {
    await rejectsWith(loadConfig({ config: file('{"prot": 5006}') }, {}), '--config', '"prot"');
  });
  it('bad value in the file names the flag', async () => {
    await rejectsWith(loadConfig({ config: file('{"port": 0, "jwtSecret": "x"}') }, {}), '--port');
  });
});

describe('config validation', () => {
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string, string?]> = [
    ['port 0', { ...KEYED, port: '0' }, {}, '--port', 'from 1 to 65535'],
    ['port too high', { ...KEYED, port: '70000' }, {}, '--port'],
    ['port not a number', { ...KEYED }, { WSE_PORT: 'abc' }, '--port', '"abc"'],
    ['port fractional', { ...KEYED, port: 80.5 }, {}, '--port'],
    ['metrics port = port', { ...KEYED, port: '7000', metricsPort: '7000' }, {}, '--metrics-port', 'other than --port'],
    ['default metrics port past 65535', { ...KEYED, port: '65000' }, {}, '--metrics-port'],
    ['short secret', { jwtSecret: 'short' }, {}, '--jwt-secret', '32 bytes'],
    ['short previous secret', { ...KEYED, jwtPreviousSecret: 'short' }, {}, '--jwt-previous-secret'],
    ['no key at all', {}, {}, '--jwt-secret', '--no-auth'],
    ['two key sources', { ...KEYED, jwtJwksUrl: 'https://idp.example/jwks.json' }, {}, '--jwt-jwks-url', 'only one'],
    ['jwks with HS256', { jwtJwksUrl: 'https://idp.example/jwks.json' }, {}, '--jwt-algorithm'],
    ['RS256 with a secret', { ...KEYED, jwtAlgorithm: 'RS256' }, {}, '--jwt-secret', 'RS256'],
    ['RS256 without a key', { jwtAlgorithm: 'RS256' }, {}, '--jwt-secret', 'required'],
    ['dev with RS256 and no key', { dev: true, jwtAlgorithm: 'RS256' }, {}, '--jwt-algorithm'],
    ['unknown algorithm', { ...KEYED, jwtAlgorithm: 'HS512' }, {}, '--jwt-algorithm', 'HS256, RS256, ES256'],
    ['no-auth with a key', { noAuth: true }, { WSE_JWT_SECRET: SECRET }, '--no-auth', '--jwt-secret'],
    ['jwks url not http', { jwtAlgorithm: 'ES256', jwtJwksUrl: 'ftp://x/jwks' }, {}, '--jwt-jwks-url'],
    ['empty issuer', { ...KEYED, jwtIssuer: '' }, {}, '--jwt-issuer'],
    ['bad cookie name', { ...KEYED, jwtCookieName: 'a b' }, {}, '--jwt-cookie-name'],
    ['short api key', { ...KEYED, apiKey: 'abc' }, {}, '--api-key', '16'],
    ['idle <= ping', { ...KEYED, pingInterval: '30', idleTimeout: '30' }, {}, '--idle-timeout', '--ping-interval'],
    ['negative seconds', { ...KEYED, recoveryTtl: '-1' }, {}, '--recovery-ttl'],
    ['outbound below message size', { ...KEYED, maxOutboundQueueBytes: '64KiB', maxMessageSize: '1MiB' }, {}, '--max-outbound-queue-bytes'],
    ['max connections 0', { ...KEYED, maxConnections: '0' }, {}, '--max-connections'],
    ['topic length 0', { ...KEYED, maxTopicLength: '0' }, {}, '--max-topic-length'],
    ['bad boolean', { ...KEYED }, { WSE_PRESENCE: 'maybe' }, '--presence', 'true or false'],
    ['bad log level', { ...KEYED, logLevel: 'loud' }, {}, '--log-level'],
    ['short signing key', { ...KEYED, signingKey: 'k' }, {}, '--signing-key'],
    ['host with a space', { ...KEYED, host: 'a b' }, {}, '--host'],
    ['refill 0', { ...KEYED, rateLimitRefill: '0' }, {}, '--rate-limit-refill'],
  ];
  for (const [name, argv, env, setting, fragment] of cases) {
    it(name, () => rejectsWith(loadConfig(argv, env), setting, fragment));
  }

  it('never prints a secret in an error', async () => {
    const err = await loadConfig({ jwtSecret: 'hunter2-short' }, {}).then(() => null, (e: unknown) => e as Error);
    assert.ok(err !== null && !err.message.includes('hunter2'), err?.message);
  });
});

describe('config auth modes', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('--dev without a key generates a secret and an API key', async () => {
    const cfg = await loadConfig({ dev: true }, {});
    assert.match(cfg.auth.secret ?? '', /^[0-9a-f]{64}$/);
    assert.match(cfg.apiKey ?? '', /^[0-9a-f]{48}$/);
    const again = await loadConfig({ dev: true }, {});
    assert.notEqual(again.auth.secret, cfg.auth.secret);
  });

  it('--dev keeps a given secret and API key', async () => {
    const cfg = await loadConfig({ dev: true, ...KEYED, apiKey: 'an-api-key-of-16-chars' }, {});
    assert.equal(cfg.auth.secret, SECRET);
    assert.equal(cfg.apiKey, 'an-api-key-of-16-chars');
  });

  it('--no-auth needs no key', async () => {
    const cfg = await loadConfig({ auth: false }, {});
    assert.equal(cfg.auth.mode, 'none');
    assert.equal(cfg.auth.secret, null);
  });

  it('RS256 public key from a file path', async () => {
    const cfg = await loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: file(rsaPem) }, {});
    assert.equal(cfg.auth.publicKey, rsaPem);
    assert.equal(cfg.auth.secret, null);
  });

  it('ES256 public key inline, with literal \\n as env files write it', async () => {
    const cfg = await loadConfig({}, { WSE_JWT_ALGORITHM: 'ES256', WSE_JWT_PUBLIC_KEY: ecPem.replace(/\n/g, '\\n') });
    assert.equal(cfg.auth.publicKey, ecPem);
  });

  it('JWKS URL for ES256', async () => {
    const cfg = await loadConfig({ jwtAlgorithm: 'ES256', jwtJwksUrl: 'http://127.0.0.1:1/jwks.json' }, {});
    assert.equal(cfg.auth.jwksUrl, 'http://127.0.0.1:1/jwks.json');
  });

  it('rejects unreadable, private, mismatched and small keys', async () => {
    await rejectsWith(loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: join(dir, 'nope.pem') }, {}), '--jwt-public-key', 'ENOENT');
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await rejectsWith(loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: privatePem }, {}), '--jwt-public-key', 'not a private key');
    await rejectsWith(loadConfig({ jwtAlgorithm: 'ES256', jwtPublicKey: rsaPem }, {}), '--jwt-public-key', 'P-256');
    await rejectsWith(loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: ecPem }, {}), '--jwt-public-key', 'RSA');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await rejectsWith(loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: small }, {}), '--jwt-public-key', '2048');
    await rejectsWith(loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: '-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----' }, {}), '--jwt-public-key');
  });

  it('previous secret only with HS256', async () => {
    const cfg = await loadConfig({ ...KEYED, jwtPreviousSecret: `${SECRET}-old` }, {});
    assert.equal(cfg.auth.previousSecret, `${SECRET}-old`);
    await rejectsWith(
      loadConfig({ jwtAlgorithm: 'RS256', jwtPublicKey: rsaPem, jwtPreviousSecret: `${SECRET}-old` }, {}),
      '--jwt-previous-secret',
    );
  });
});

describe('redactConfig', () => {
  it('hides every secret and keeps the rest', async () => {
    const cfg = await loadConfig({
      ...KEYED,
      jwtPreviousSecret: 'previous-secret-that-is-32-bytes-long',
      apiKey: 'api-key-0123456789abcdef',
      signingKey: 'signing-key-that-is-at-least-32-bytes',
    }, {});
    const redacted = redactConfig(cfg) as typeof cfg;
    const text = JSON.stringify(redacted);
    for (const secret of [SECRET, 'previous-secret', 'api-key-0123', 'signing-key-that']) assert.ok(!text.includes(secret), secret);
    assert.equal(redacted.auth.secret, '<redacted>');
    assert.equal(redacted.auth.previousSecret, '<redacted>');
    assert.equal(redacted.apiKey, '<redacted>');
    assert.equal(redacted.signingKey, '<redacted>');
    assert.equal(redacted.port, 5006);
    assert.equal(cfg.auth.secret, SECRET, 'the original is untouched');
    const open = redactConfig(await loadConfig({ auth: false }, {})) as typeof cfg;
    assert.equal(open.apiKey, null, 'an unset secret stays null');
  });
});

describe('mesh settings', () => {
  it('default to port 9999 on the client host, no peers, no secret, no TLS', async () => {
    const cfg = await loadConfig(KEYED, {});
    assert.deepEqual(cfg.mesh, { host: '0.0.0.0', port: 9999, advertise: null, peers: [], seeds: [], clusterSecret: null, tls: null, compression: true });
  });

  it('take peers and seeds as comma lists (flags, env) or arrays (file)', async () => {
    const cfg = await loadConfig({ ...KEYED, peers: '10.0.0.1:9999, node-b:9999' }, { WSE_SEEDS: '[::1]:9000' });
    assert.deepEqual(cfg.mesh.peers, ['10.0.0.1:9999', 'node-b:9999']);
    assert.deepEqual(cfg.mesh.seeds, ['[::1]:9000']);
    const fromFile = await loadConfig({ ...KEYED, config: file(JSON.stringify({ seeds: ['a:1', 'b:2'] })) }, {});
    assert.deepEqual(fromFile.mesh.seeds, ['a:1', 'b:2']);
  });

  it('refuse a peer without a port, a short cluster secret and partial mTLS', async () => {
    await rejectsWith(loadConfig({ ...KEYED, peers: 'node-b' }, {}), '--peers');
    await rejectsWith(loadConfig({ ...KEYED, meshAdvertise: '10.0.0.1:70000' }, {}), '--mesh-advertise');
    await rejectsWith(loadConfig({ ...KEYED, clusterSecret: 'short' }, {}), '--cluster-secret');
    await rejectsWith(loadConfig({ ...KEYED, meshTlsCa: '/nonexistent/ca.pem' }, {}), '--mesh-tls-cert');
    await rejectsWith(loadConfig({ ...KEYED, workers: 4, meshPort: 65534 }, {}), '--mesh-port');
  });

  it('take only a literal, dialable IP:port as the advertised mesh address', async () => {
    for (const bad of ['wse-1.example:9999', '0.0.0.0:9999', '[::]:9999', '[0:0::0]:9999']) {
      await rejectsWith(loadConfig({ ...KEYED, meshAdvertise: bad }, {}), '--mesh-advertise', 'a literal IP:port');
    }
    for (const good of ['10.0.0.1:9999', '[fd00::1]:9999']) assert.equal((await loadConfig({ ...KEYED, meshAdvertise: good }, {})).mesh.advertise, good);
  });

  it('redact the cluster secret in --print-config', async () => {
    const cfg = await loadConfig({ ...KEYED, clusterSecret: 'a-cluster-secret-of-some-length' }, {});
    assert.equal((redactConfig(cfg) as { mesh: { clusterSecret: string } }).mesh.clusterSecret, '<redacted>');
  });
});

describe('reloadConfig (SIGHUP)', () => {
  it('keeps what --dev generated, so printed tokens and the API key stay valid', async () => {
    const running = await loadConfig({ dev: true }, {});
    const reloaded = await reloadConfig(running, { dev: true, maxConnections: '50' }, {});
    assert.equal(reloaded.auth.secret, running.auth.secret);
    assert.equal(reloaded.apiKey, running.apiKey);
    assert.equal(reloaded.limits.maxConnections, 50);
  });

  it('refuses a change to a setting fixed while the node runs, naming it', async () => {
    const running = await loadConfig({ ...KEYED, workers: '2' }, {});
    await rejectsWith(reloadConfig(running, { ...KEYED, workers: '3' }, {}), '--workers', 'restart the node');
    await rejectsWith(reloadConfig(running, { ...KEYED, workers: '2', meshPort: '9000' }, {}), '--mesh-port', 'restart the node');
    await rejectsWith(reloadConfig(running, { ...KEYED, workers: '2', pingInterval: 'x' }, {}), '--ping-interval');
  });
});
