import { compileGlob, isGlob } from './glob.js';

/** MESH.md §6: at most 1,000,000 topics per link. */
export const MAX_LINK_TOPICS = 1_000_000;

/**
 * What one peer told us it wants (SUB/UNSUB/RESYNC), exact topics and globs. A link without a set
 * yet gets everything; that default is the link's business, not this class's.
 */
export class InterestSet {
  /** Entries refused because the set was full. */
  refused = 0;
  private readonly exact = new Set<string>();
  private readonly globs = new Map<string, RegExp>();

  get size(): number {
    return this.exact.size + this.globs.size;
  }

  add(topic: string): void {
    if (topic.length === 0) return;
    if (this.size >= MAX_LINK_TOPICS) {
      this.refused++;
      return;
    }
    if (isGlob(topic)) {
      if (!this.globs.has(topic)) this.globs.set(topic, compileGlob(topic));
    } else this.exact.add(topic);
  }

  remove(topic: string): void {
    if (!this.exact.delete(topic)) this.globs.delete(topic);
  }

  matches(topic: string): boolean {
    if (this.exact.has(topic)) return true;
    if (this.globs.size === 0) return false;
    for (const re of this.globs.values()) if (re.test(topic)) return true;
    return false;
  }
}
