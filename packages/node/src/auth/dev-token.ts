import { SignJWT } from 'jose';
import { secretKey } from './keys.js';

export interface DevTokenOptions {
  sub: string;
  ttlSeconds: number;
  /** Extra claims, e.g. `wse_topics` / `wse_publish`; `sub`, `iat` and `exp` come from the options. */
  claims?: Record<string, unknown>;
  issuer?: string | null;
  audience?: string | null;
  keyId?: string | null;
}

/** An HS256 token for development and tests (`wse token`, `wse start --dev`). */
export async function signDevToken(secret: string, opts: DevTokenOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...opts.claims })
    .setProtectedHeader(opts.keyId ? { alg: 'HS256', typ: 'JWT', kid: opts.keyId } : { alg: 'HS256', typ: 'JWT' })
    .setSubject(opts.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + opts.ttlSeconds);
  if (opts.issuer) jwt.setIssuer(opts.issuer);
  if (opts.audience) jwt.setAudience(opts.audience);
  return jwt.sign(secretKey(secret));
}
