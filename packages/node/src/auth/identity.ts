import type { TopicAcl } from '../topics/acl.js';

/** Who a connection is and what its token lets it do. */
export interface Identity {
  /** JWT `sub`; null only in anonymous mode (--no-auth), where the connection id stands in. */
  userId: string | null;
  claims: Record<string, unknown>;
  /** Topics it may subscribe to (`wse_topics`; absent = all). */
  topics: TopicAcl;
  /** Topics it may publish to (`wse_publish`); null = may not publish. */
  publish: TopicAcl | null;
}

/** Low-cardinality label for `wse_auth_failures_total` and logs. */
export type AuthFailureReason =
  | 'missing'
  | 'too_large'
  | 'malformed'
  | 'bad_alg'
  | 'bad_kid'
  | 'unknown_key'
  | 'bad_signature'
  | 'jwks_unavailable'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_issuer'
  | 'bad_audience'
  | 'bad_claims'
  | 'no_sub';

export type AuthResult =
  | { ok: true; identity: Identity }
  | { ok: false; code: 'AUTH_REQUIRED' | 'AUTH_FAILED'; message: string; reason: AuthFailureReason };

// PROTOCOL.md §2: the exact error texts clients see.
export const AUTH_REQUIRED_MESSAGE = 'No JWT cookie or Authorization header';
export const AUTH_FAILED_MESSAGE = 'Authentication failed';
export const NO_SUB_MESSAGE = 'Token missing user ID';

export function authFailure(reason: AuthFailureReason): AuthResult {
  if (reason === 'missing') return { ok: false, code: 'AUTH_REQUIRED', message: AUTH_REQUIRED_MESSAGE, reason };
  return { ok: false, code: 'AUTH_FAILED', message: reason === 'no_sub' ? NO_SUB_MESSAGE : AUTH_FAILED_MESSAGE, reason };
}
