/**
 * Where the token comes from (PROTOCOL.md §2): first the cookie `cookieName`, then an
 * `Authorization` header whose first 7 characters are `bearer ` in any case. No query-string token.
 */
export function findToken(cookieHeader: string, authorizationHeader: string, cookieName: string): string | null {
  return cookieToken(cookieHeader, cookieName) ?? bearerToken(authorizationHeader);
}

function cookieToken(header: string, name: string): string | null {
  if (header.length === 0) return null;
  const prefix = `${name}=`;
  for (const part of header.split(';')) {
    const pair = part.trim();
    if (!pair.startsWith(prefix)) continue;
    const value = pair.slice(prefix.length).trim();
    // The original treats these as "no cookie" (frameworks write them for a cleared cookie).
    if (value !== '' && value !== 'undefined' && value !== 'null') return value;
  }
  return null;
}

function bearerToken(header: string): string | null {
  if (header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return null;
  const token = header.slice(7).trim();
  return token === '' ? null : token;
}
