/**
 * Message signing (PROTOCOL.md §14): `sig` = `h:ts:nonce:mac`. No client verifies it; the format is
 * fixed so that an application that wants to can.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** `h` = SHA-256 hex of canonical `p`, `ts` = Unix seconds, 32-hex nonce, `mac` = HMAC-SHA256 hex of `h:ts:nonce`. */
export function signPayload(payload: unknown, key: string, nowMs: number = Date.now()): string {
  const h = createHash('sha256').update(canonicalJson(payload)).digest('hex');
  const signed = `${h}:${Math.floor(nowMs / 1000)}:${randomBytes(16).toString('hex')}`;
  return `${signed}:${createHmac('sha256', key).update(signed).digest('hex')}`;
}

/** Compact JSON with object keys sorted at every level (§14's canonical form; §18: unverified). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, sortKeys) ?? 'null';
}

function sortKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const sorted: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(value).sort()) sorted[k] = (value as Record<string, unknown>)[k];
  return sorted;
}
