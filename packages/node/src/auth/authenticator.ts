import { compactVerify, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import type { AuthConfig } from '../config/types.js';
import { TopicAcl } from '../topics/acl.js';
import { checkClaims } from './claims.js';
import { authFailure, type AuthFailureReason, type AuthResult, type Identity } from './identity.js';
import { verifyKeys, type VerifyKey, type VerifyKeys } from './keys.js';
import { findToken } from './token-source.js';

/** PROTOCOL.md §2: longer tokens are refused before any parsing. */
export const MAX_TOKEN_BYTES = 8192;

export interface Authenticator {
  /** Header values as uWS hands them over ('' when absent). Never throws. */
  authenticate(cookieHeader: string, authorizationHeader: string): Promise<AuthResult>;
  close(): void;
}

export interface AuthenticatorOptions {
  /** Unix seconds; tests pin it to probe the leeway edges. */
  now?: () => number;
}

const ANONYMOUS: Identity = Object.freeze({
  userId: null,
  claims: Object.freeze({}),
  topics: TopicAcl.allowAll(),
  publish: TopicAcl.allowAll(),
});

export async function createAuthenticator(cfg: AuthConfig, options: AuthenticatorOptions = {}): Promise<Authenticator> {
  if (cfg.mode === 'none') {
    return { authenticate: async () => ({ ok: true, identity: ANONYMOUS }), close: () => {} };
  }
  const keys = await verifyKeys(cfg);
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    authenticate: async (cookieHeader, authorizationHeader) => {
      const token = findToken(cookieHeader, authorizationHeader, cfg.cookieName);
      if (token === null) return authFailure('missing');
      const verified = await verifyToken(token, cfg, keys);
      if (typeof verified === 'string') return authFailure(verified);
      const checked = checkClaims(verified, cfg, now());
      return checked.ok ? checked : authFailure(checked.reason);
    },
    // Remote JWKS sets hold no sockets between fetches; nothing to release.
    close: () => {},
  };
}

/** Steps 1–4 of PROTOCOL.md §2: size, `alg`, `kid`, signature (with the rotation fallback). */
async function verifyToken(token: string, cfg: AuthConfig, keys: VerifyKeys): Promise<Uint8Array | AuthFailureReason> {
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) return 'too_large';
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    return 'malformed';
  }
  if (header.alg !== cfg.algorithm) return 'bad_alg';
  const primary = cfg.keyId !== null && header.kid !== cfg.keyId ? 'bad_kid' : await verifyWith(token, cfg, keys.primary, keys.remote);
  // Rotation: a signature or kid failure gets one more try with the previous key, kid unchecked.
  if ((primary === 'bad_kid' || primary === 'bad_signature') && keys.previous !== null) {
    const previous = await verifyWith(token, cfg, keys.previous, false);
    if (typeof previous !== 'string') return previous;
  }
  return primary;
}

async function verifyWith(token: string, cfg: AuthConfig, key: VerifyKey, remote: boolean): Promise<Uint8Array | AuthFailureReason> {
  try {
    const { payload } = await compactVerify(token, key, { algorithms: [cfg.algorithm] });
    return payload;
  } catch (err) {
    return signatureFailure(err, remote);
  }
}

function signatureFailure(err: unknown, remote: boolean): AuthFailureReason {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'unknown_key';
    case 'ERR_JWS_INVALID':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'malformed';
    default:
      // Anything else from a JWKS lookup is the key server failing (network, status, timeout).
      return remote ? 'jwks_unavailable' : 'malformed';
  }
}
