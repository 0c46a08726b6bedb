import { ConfigError } from '../errors.js';
import type { JwtAlgorithm, LogLevel } from './types.js';
import { boolean, decimal, dialableIpPort, hostPortList, integer, oneOf, secret, seconds, size, text, type Parser } from './parse.js';

/**
 * The schema of `wse start`: one entry per setting, keyed by its camelCase name. The same name is
 * the config-file key; the flag is its kebab-case form (`--metrics-port`) and the environment
 * variable its upper snake form with a `WSE_` prefix (`WSE_METRICS_PORT`). Defaults live here, not
 * in yargs, so that a flag the user did not give never masks the environment or the file.
 */
interface Setting<T> {
  fallback: T;
  parse: Parser<T>;
  describe: string;
  type: 'string' | 'boolean';
}

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

function setting<T>(fallback: T, parse: Parser<T>, describe: string): Setting<T> {
  return { fallback, parse, describe, type: typeof fallback === 'boolean' ? 'boolean' : 'string' };
}

function optional<T>(parse: Parser<T>, describe: string): Setting<T | null> {
  return { fallback: null, parse, describe, type: 'string' };
}

const workers: Parser<number | 'auto'> = (raw, flag) => (raw === 'auto' ? 'auto' : integer(1, 1024)(raw, flag));

const httpUrl: Parser<string> = (raw, flag) => {
  const value = text()(raw, flag);
  if (!URL.canParse(value) || !['http:', 'https:'].includes(new URL(value).protocol)) {
    throw new ConfigError(flag, raw, 'an http:// or https:// URL');
  }
  return value;
};

// PEM text spans lines, so the generic text check does not apply; auth-settings.ts validates it.
const pemOrPath: Parser<string> = (raw, flag) => {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(flag, raw, 'a PEM file path or PEM text');
  return raw;
};

const ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'RS256', 'ES256'];
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
// RFC 6265 cookie-name: an HTTP token.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOST = /^[A-Za-z0-9._:%-]+$/;
// Sent as `Authorization: apikey <key>`: visible ASCII only, long enough not to be guessed.
const API_KEY = /^[\x21-\x7e]{16,}$/;

export const SETTINGS = {
  host: setting('0.0.0.0', text('a host name or IP address', HOST), 'Address the client port listens on'),
  port: setting(5006, integer(1, 65535), 'Client port (WebSocket /wse and HTTP /api)'),
  metricsPort: optional(integer(1, 65535), 'Port of /metrics and /health [default: port + 1000]'),
  workers: setting<number | 'auto'>('auto', workers, 'Worker processes: auto (one per CPU) or a count'),
  nodeId: optional(text('1 to 256 characters, no control characters', /^.{1,256}$/su), 'Node id in the mesh [default: host name]'),
  dev: setting(false, boolean, 'Development mode: generate a JWT secret and API key when none is set'),
  jwtSecret: optional(secret(32), 'HS256 secret (at least 32 bytes)'),
  jwtPreviousSecret: optional(secret(32), 'Previous HS256 secret, still accepted during rotation'),
  jwtPublicKey: optional(pemOrPath, 'RS256/ES256 public key: a PEM file path or the PEM text'),
  jwtJwksUrl: optional(httpUrl, 'RS256/ES256 JWKS URL'),
  jwtAlgorithm: setting<JwtAlgorithm>('HS256', oneOf(ALGORITHMS), 'JWT algorithm: HS256, RS256 or ES256'),
  jwtIssuer: optional(text(), 'Required JWT iss'),
  jwtAudience: optional(text(), 'Required JWT aud'),
  jwtKeyId: optional(text(), 'Required JWT kid header'),
  jwtCookieName: setting('access_token', text('a cookie name (HTTP token characters)', COOKIE_NAME), 'Cookie holding the JWT'),
  noAuth: setting(false, boolean, 'Anonymous mode: accept every client without a token (--no-auth)'),
  apiKey: optional(text('at least 16 visible ASCII characters, no spaces', API_KEY), 'Key for /api/* (Authorization: apikey <key>)'),
  maxConnections: setting(1000, integer(1, 10_000_000), 'Connections per worker'),
  maxMessageSize: setting(MIB, size(KIB, 16 * MIB), 'Largest message in either direction (bytes)'),
  maxSubscriptionsPerConnection: setting(1000, integer(0, 1_000_000), 'Topics per connection (0 = unlimited)'),
  maxTopicLength: setting(256, integer(1, 65535), 'Longest topic name (UTF-8 bytes)'),
  maxOutboundQueueBytes: setting(16 * MIB, size(64 * KIB, 4 * GIB), 'Per-connection unsent backlog before close 4008'),
  maxInflightPublishes: setting(1024, integer(1, 1_000_000), 'Client publications received but not yet accepted'),
  maxPendingUpgrades: setting(512, integer(1, 1_000_000), 'Sockets upgraded and still waiting for their token check'),
  upgradeTimeout: setting(10_000, seconds(0.1, 300), 'Seconds a socket may wait for its token check before it is closed'),
  presenceMaxMembers: setting(0, integer(0, 10_000_000), 'Presence members per topic (0 = unlimited)'),
  presenceMaxDataBytes: setting(4096, size(0, MIB), 'Largest presence data (serialised bytes)'),
  rateLimitCapacity: setting(100_000, integer(1, 1_000_000_000), 'Token bucket size per connection'),
  rateLimitRefill: setting(10_000, decimal(0.001, 1_000_000_000), 'Tokens added per second'),
  pingInterval: setting(25_000, seconds(0.01, 3600), 'Seconds between server pings'),
  idleTimeout: setting(60_000, seconds(0.02, 7200), 'Seconds without client traffic before close (> ping interval)'),
  recoveryBufferSize: setting(128, integer(16, 1 << 20), 'Recovery slots per topic (rounded up to a power of two)'),
  recoveryTtl: setting(300_000, seconds(0.01, 7 * 86400), 'Seconds a message stays recoverable'),
  recoveryMaxMessages: setting(500, integer(1, 1_000_000), 'Most messages replayed per topic and request'),
  recoveryMemoryBudget: setting(256 * MIB, size(0, 64 * GIB), 'Memory recovery history may keep alive per worker (LRU eviction)'),
  compressionThreshold: setting(1024, size(0, 16 * MIB), 'Per-connection sends above this size are zlib-compressed'),
  fanoutBacklogBytes: setting(64 * MIB, size(KIB, 64 * GIB), 'Unwritten fan-out bytes per worker before publishers are paced'),
  presence: setting(true, boolean, 'Presence tracking (--no-presence turns it off)'),
  signingKey: optional(secret(32), 'HMAC key for message signing (at least 32 bytes)'),
  meshHost: optional(text('a host name or IP address', HOST), 'Address the mesh listeners bind [default: --host]'),
  meshPort: setting(9999, integer(1, 65535), 'Mesh port of worker 0; worker i listens on mesh-port + i'),
  meshAdvertise: optional(dialableIpPort, 'IP:port other members dial for worker 0 (worker i: port + i) [default: listen address]'),
  peers: setting<string[]>([], hostPortList, 'Static mesh peers, host:port,… (redialled forever)'),
  seeds: setting<string[]>([], hostPortList, 'Gossip seeds, host:port,…'),
  clusterSecret: optional(secret(16), 'Mesh cluster secret (HELLO proof, MESH.md E.d)'),
  meshTlsCa: optional(pemOrPath, 'Mesh mTLS CA certificate: a PEM file path or the PEM text'),
  meshTlsCert: optional(pemOrPath, 'Mesh mTLS certificate (PEM path or text)'),
  meshTlsKey: optional(pemOrPath, 'Mesh mTLS private key (PEM path or text)'),
  meshCompression: setting(true, boolean, 'zstd for mesh MSG payloads ≥ 256 bytes (--no-mesh-compression)'),
  drainTimeout: setting(10_000, seconds(0, 3600), 'Seconds a drain waits for clients to leave'),
  logLevel: setting<LogLevel>('info', oneOf(LOG_LEVELS), 'Log level'),
};

export type SettingKey = keyof typeof SETTINGS;
export type SettingValues = { [K in SettingKey]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export function envName(key: string): string {
  return `WSE_${flagName(key).replace(/-/g, '_').toUpperCase()}`;
}
