import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { AuthConfig, JwtAlgorithm } from './types.js';
import type { SettingValues } from './settings.js';

type AuthSettings = Pick<
  SettingValues,
  | 'dev'
  | 'noAuth'
  | 'jwtSecret'
  | 'jwtPreviousSecret'
  | 'jwtPublicKey'
  | 'jwtJwksUrl'
  | 'jwtAlgorithm'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'jwtKeyId'
  | 'jwtCookieName'
>;

const HIDDEN = '<redacted>';

/** The `allowed` text of the error for a missing key; `wse token` recognises it to say its own. */
export const KEY_REQUIRED =
  'a JWT key is required: pass --jwt-secret (or --jwt-public-key / --jwt-jwks-url), --no-auth for anonymous clients, or --dev';

/**
 * The cross-field rules of authentication (PROTOCOL.md §2, DESIGN.md "Security model"): exactly
 * one key source unless `--no-auth`; HS256 takes a secret, RS256/ES256 a public key or JWKS URL;
 * with no key at all only `--dev` (generates an HS256 secret) or `--no-auth` may start.
 */
export async function resolveAuth(s: AuthSettings, generatedSecret: string | null = null): Promise<AuthConfig> {
  const sources = keySources(s);
  const base = {
    algorithm: s.jwtAlgorithm,
    issuer: s.jwtIssuer,
    audience: s.jwtAudience,
    keyId: s.jwtKeyId,
    cookieName: s.jwtCookieName,
  };
  if (s.noAuth) {
    if (sources.length > 0) throw new ConfigError('--no-auth', true, `anonymous mode cannot be combined with ${sources[0]}`);
    return { ...base, mode: 'none', secret: null, previousSecret: null, publicKey: null, jwksUrl: null };
  }
  if (sources.length > 1) {
    throw new ConfigError(sources[1]!, HIDDEN, `only one JWT key source may be set, got ${sources.join(' and ')}`);
  }
  const secret = s.jwtSecret ?? devSecret(s, generatedSecret);
  checkAlgorithmFits(s, secret);
  const publicKey = s.jwtPublicKey === null ? null : await loadPublicKey(s.jwtPublicKey, s.jwtAlgorithm);
  return { ...base, mode: 'jwt', secret, previousSecret: s.jwtPreviousSecret, publicKey, jwksUrl: s.jwtJwksUrl };
}

function keySources(s: AuthSettings): string[] {
  const sources: string[] = [];
  if (s.jwtSecret !== null) sources.push('--jwt-secret');
  if (s.jwtPublicKey !== null) sources.push('--jwt-public-key');
  if (s.jwtJwksUrl !== null) sources.push('--jwt-jwks-url');
  if (s.noAuth && s.jwtPreviousSecret !== null) sources.push('--jwt-previous-secret');
  return sources;
}

/** `--dev` without a key: `generated` (the one a running node already printed a token for) or a new one. */
function devSecret(s: AuthSettings, generated: string | null): string | null {
  if (s.jwtPublicKey !== null || s.jwtJwksUrl !== null) return null;
  if (!s.dev) {
    throw new ConfigError('--jwt-secret', undefined, KEY_REQUIRED);
  }
  if (s.jwtAlgorithm !== 'HS256') {
    throw new ConfigError('--jwt-algorithm', s.jwtAlgorithm, 'HS256 when --dev generates the key; pass --jwt-public-key or --jwt-jwks-url');
  }
  return generated ?? randomBytes(32).toString('hex');
}

function checkAlgorithmFits(s: AuthSettings, secret: string | null): void {
  if (s.jwtAlgorithm === 'HS256') {
    if (secret === null) {
      throw new ConfigError('--jwt-algorithm', 'HS256', 'RS256 or ES256 with --jwt-public-key or --jwt-jwks-url');
    }
    return;
  }
  if (secret !== null) {
    throw new ConfigError('--jwt-secret', HIDDEN, `unset with --jwt-algorithm ${s.jwtAlgorithm}; pass --jwt-public-key or --jwt-jwks-url`);
  }
  if (s.jwtPreviousSecret !== null) {
    throw new ConfigError('--jwt-previous-secret', HIDDEN, 'only with --jwt-algorithm HS256');
  }
}

/** `--jwt-public-key` is PEM text (literal `\n` accepted, as env files write it) or a path to one. */
async function loadPublicKey(value: string, algorithm: JwtAlgorithm): Promise<string> {
  const inline = value.includes('-----BEGIN');
  const shown = inline ? '<PEM text>' : value;
  let pem = value.replace(/\\n/g, '\n');
  if (!inline) {
    try {
      pem = await readFile(value, 'utf8');
    } catch (err) {
      throw new ConfigError('--jwt-public-key', shown, `a readable PEM file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  const problem = publicKeyProblem(pem, algorithm);
  if (problem !== null) throw new ConfigError('--jwt-public-key', shown, problem);
  return pem;
}

function publicKeyProblem(pem: string, algorithm: JwtAlgorithm): string | null {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return 'a public key, not a private key';
  // jose's importSPKI takes SPKI PEM only.
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) return 'an SPKI PEM public key (BEGIN PUBLIC KEY)';
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    return 'a readable SPKI PEM public key';
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === 'RS256' && (key.asymmetricKeyType !== 'rsa' || (details.modulusLength ?? 0) < 2048)) {
    return 'an RSA key of at least 2048 bits for RS256';
  }
  if (algorithm === 'ES256' && (key.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1')) {
    return 'a P-256 EC key for ES256';
  }
  return null;
}
