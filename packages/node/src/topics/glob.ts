/**
 * Topic globs (PROTOCOL.md §7, §19): `*` matches any run of characters (empty included), `?` exactly
 * one character (one code point), everything else itself. Matching is the iterative
 * last-star-backtracking algorithm, O(pattern × topic) at worst: a client-chosen pattern such as
 * `*a*a*a*a*b` cannot blow up the way a backtracking RegExp would.
 */
const STAR = 0x2a;
const QUESTION = 0x3f;
const CACHE_LIMIT = 10_000;

export interface GlobMatcher {
  readonly pattern: string;
  match(topic: string): boolean;
}

/** Compiled patterns; cleared when full, which `globCacheStats().clears` counts. */
const cache = new Map<string, GlobMatcher>();
let clears = 0;

export function isGlob(topic: string): boolean {
  return topic.includes('*') || topic.includes('?');
}

export function globMatch(pattern: string, topic: string): boolean {
  return compileGlob(pattern).match(topic);
}

export function compileGlob(pattern: string): GlobMatcher {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    if (cache.size >= CACHE_LIMIT) {
      cache.clear();
      clears++;
    }
    matcher = build(pattern);
    cache.set(pattern, matcher);
  }
  return matcher;
}

export function globCacheStats(): { size: number; clears: number } {
  return { size: cache.size, clears };
}

function build(pattern: string): GlobMatcher {
  const firstWild = firstWildcard(pattern);
  if (firstWild === -1) return { pattern, match: (topic) => topic === pattern };
  if (pattern === '*') return { pattern, match: () => true };
  // `prefix*` is the common shape (`chat:*`) and needs no scan.
  if (firstWild === pattern.length - 1 && pattern.charCodeAt(firstWild) === STAR) {
    const prefix = pattern.slice(0, -1);
    return { pattern, match: (topic) => topic.startsWith(prefix) };
  }
  return { pattern, match: (topic) => wildcardMatch(pattern, topic) };
}

function firstWildcard(pattern: string): number {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === STAR || c === QUESTION) return i;
  }
  return -1;
}

function wildcardMatch(pattern: string, topic: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < topic.length) {
    const c = p < pattern.length ? pattern.charCodeAt(p) : -1;
    if (c === QUESTION) {
      p++;
      t += codePointWidth(topic, t);
    } else if (c === STAR) {
      starP = p++;
      starT = t;
    } else if (c === topic.charCodeAt(t)) {
      p++;
      t++;
    } else if (starP !== -1) {
      // Let the last star absorb one more character and retry from there.
      starT += codePointWidth(topic, starT);
      p = starP + 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

/** 2 for a surrogate pair, else 1, so `?` and `*` never split a character. */
function codePointWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const next = s.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}
