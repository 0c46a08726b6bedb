import { compileGlob, type GlobMatcher } from './glob.js';

/**
 * A topic access list from a token claim (PROTOCOL.md §19 "Token claims for access"):
 * `{"allow":[glob…],"deny":[glob…]}`. Deny beats allow. An absent `allow` allows every topic not
 * denied; an empty one allows none. A claim of any other shape denies everything: a token that
 * meant to restrict access must never widen it by being malformed.
 *
 * `allows()` treats its argument as a literal topic. For a glob subscription that means the
 * pattern text itself is checked, so the delivery path must still check each concrete topic a
 * glob covers against the ACL (a deny inside an allowed pattern).
 */
export class TopicAcl {
  private static readonly ALL = new TopicAcl(null, []);
  private static readonly NONE = new TopicAcl([], []);

  private constructor(
    /** null = every topic. */
    private readonly allow: readonly GlobMatcher[] | null,
    private readonly deny: readonly GlobMatcher[],
  ) {}

  static allowAll(): TopicAcl {
    return TopicAcl.ALL;
  }

  static denyAll(): TopicAcl {
    return TopicAcl.NONE;
  }

  static fromClaim(value: unknown): TopicAcl {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return TopicAcl.NONE;
    const { allow, deny } = value as { allow?: unknown; deny?: unknown };
    const allowList = allow === undefined ? null : globList(allow);
    const denyList = globList(deny ?? []);
    if (allowList === undefined || denyList === undefined) return TopicAcl.NONE;
    return new TopicAcl(allowList, denyList);
  }

  allows(topic: string): boolean {
    for (const pattern of this.deny) if (pattern.match(topic)) return false;
    if (this.allow === null) return true;
    for (const pattern of this.allow) if (pattern.match(topic)) return true;
    return false;
  }

  /** True when nothing can be denied: callers may skip per-topic checks. */
  get allowsEverything(): boolean {
    return this.allow === null && this.deny.length === 0;
  }
}

/** An array of strings compiled to matchers; undefined for any other shape. */
function globList(value: unknown): GlobMatcher[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const matchers: GlobMatcher[] = [];
  for (const item of value) {
    if (typeof item !== 'string') return undefined;
    matchers.push(compileGlob(item));
  }
  return matchers;
}

export type TopicProblem = 'not_string' | 'empty' | 'too_long' | 'control_char';

// PROTOCOL.md §7: ASCII control characters would corrupt mesh RESYNC.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `topic` is not a valid topic name, or null. `maxLength` counts UTF-8 bytes (MESH.md u16). */
export function validateTopic(topic: unknown, maxLength: number): TopicProblem | null {
  if (typeof topic !== 'string') return 'not_string';
  if (topic.length === 0) return 'empty';
  // A UTF-16 unit is 1 to 3 UTF-8 bytes: count bytes only when the answer depends on it.
  if (topic.length > maxLength || (topic.length * 3 > maxLength && Buffer.byteLength(topic) > maxLength)) return 'too_long';
  if (CONTROL.test(topic)) return 'control_char';
  return null;
}
