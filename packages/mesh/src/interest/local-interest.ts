/**
 * This member's own interest, refcounted per topic string (globs included), MESH.md §6.
 * `add` reports a 0→1 transition and `remove` a 1→0 one: those are the moments to send SUB/UNSUB.
 */
export class LocalInterest {
  private readonly counts = new Map<string, number>();

  get size(): number {
    return this.counts.size;
  }

  add(topic: string): boolean {
    const n = this.counts.get(topic) ?? 0;
    this.counts.set(topic, n + 1);
    return n === 0;
  }

  remove(topic: string): boolean {
    const n = this.counts.get(topic);
    if (n === undefined) return false;
    if (n > 1) {
      this.counts.set(topic, n - 1);
      return false;
    }
    this.counts.delete(topic);
    return true;
  }

  has(topic: string): boolean {
    return this.counts.has(topic);
  }

  topics(): IterableIterator<string> {
    return this.counts.keys();
  }
}
