import type { AuthConfig } from '../config/types.js';
import { TopicAcl } from '../topics/acl.js';
import type { AuthFailureReason, Identity } from './identity.js';

/** PROTOCOL.md §16: clock leeway for `exp` and `nbf`. */
export const LEEWAY_SECONDS = 30;

type ClaimsCheck = { ok: true; identity: Identity } | { ok: false; reason: AuthFailureReason };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The claim checks of PROTOCOL.md §2, in its order, on a payload whose signature is already
 * verified: `exp` required, `nbf` if present, `iss`, `aud` (string or array), then `sub`.
 * `iat` is deliberately not checked. `now` is Unix seconds.
 */
export function checkClaims(payload: Uint8Array, cfg: AuthConfig, now: number): ClaimsCheck {
  const claims = parseClaims(payload);
  if (claims === null) return { ok: false, reason: 'malformed' };
  const { exp, nbf, iss, aud, sub } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return { ok: false, reason: 'bad_claims' };
  if (exp <= now - LEEWAY_SECONDS) return { ok: false, reason: 'expired' };
  if (nbf !== undefined) {
    if (typeof nbf !== 'number' || !Number.isFinite(nbf)) return { ok: false, reason: 'bad_claims' };
    if (nbf > now + LEEWAY_SECONDS) return { ok: false, reason: 'not_yet_valid' };
  }
  if (cfg.issuer !== null && iss !== cfg.issuer) return { ok: false, reason: 'bad_issuer' };
  if (cfg.audience !== null && !audienceMatches(aud, cfg.audience)) return { ok: false, reason: 'bad_audience' };
  if (typeof sub !== 'string' || sub.length === 0) return { ok: false, reason: 'no_sub' };
  return { ok: true, identity: identityOf(sub, claims) };
}

export function identityOf(userId: string, claims: Record<string, unknown>): Identity {
  return {
    userId,
    claims,
    // PROTOCOL.md §19: absent wse_topics = every topic; absent wse_publish = no publishing.
    topics: claims.wse_topics === undefined ? TopicAcl.allowAll() : TopicAcl.fromClaim(claims.wse_topics),
    publish: claims.wse_publish === undefined ? null : TopicAcl.fromClaim(claims.wse_publish),
  };
}

function parseClaims(payload: Uint8Array): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(decoder.decode(payload));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function audienceMatches(aud: unknown, expected: string): boolean {
  if (typeof aud === 'string') return aud === expected;
  return Array.isArray(aud) && aud.includes(expected);
}
