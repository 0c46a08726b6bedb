import { createHmac } from 'node:crypto';

/** A compact HS256 JWT (RFC 7519) signed with node:crypto: the benchmark needs nothing more. */
export function signHs256(claims: Record<string, unknown>, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(claims));
  const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

/**
 * The token every benchmark connection presents as `Cookie: access_token=…` (PROTOCOL.md §2):
 * subscribe and publish anywhere (§7, §19 claims).
 */
export function benchToken(secret: string, subject = 'wse-bench', ttlSeconds = 24 * 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return signHs256(
    {
      sub: subject,
      iat: now,
      exp: now + ttlSeconds,
      wse_topics: { allow: ['*'] },
      wse_publish: { allow: ['*'] },
    },
    secret,
  );
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
