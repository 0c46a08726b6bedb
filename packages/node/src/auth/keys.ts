import { createRemoteJWKSet, importSPKI, type CompactVerifyGetKey, type KeyInput } from 'jose';
import type { AuthConfig } from '../config/types.js';

export type VerifyKey = KeyInput | CompactVerifyGetKey;

export interface VerifyKeys {
  primary: VerifyKey;
  /** HS256 rotation key (PROTOCOL.md §2). */
  previous: Uint8Array | null;
  /** The primary key is fetched from a JWKS URL, so a lookup can fail for network reasons. */
  remote: boolean;
}

const JWKS_TIMEOUT_MS = 5000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 600_000;

/** Keys for a validated `mode: 'jwt'` AuthConfig (config/auth-settings.ts enforces one source). */
export async function verifyKeys(cfg: AuthConfig): Promise<VerifyKeys> {
  const previous = cfg.previousSecret === null ? null : secretKey(cfg.previousSecret);
  if (cfg.jwksUrl !== null) {
    const jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), {
      timeoutDuration: JWKS_TIMEOUT_MS,
      cooldownDuration: JWKS_COOLDOWN_MS,
      cacheMaxAge: JWKS_MAX_AGE_MS,
    });
    return { primary: jwks, previous, remote: true };
  }
  if (cfg.publicKey !== null) {
    return { primary: await importSPKI(cfg.publicKey, cfg.algorithm), previous, remote: false };
  }
  if (cfg.secret === null) throw new TypeError('AuthConfig in jwt mode has no key');
  return { primary: secretKey(cfg.secret), previous, remote: false };
}

export function secretKey(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}
