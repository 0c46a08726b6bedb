/**
 * Memory the recovery rings keep alive (PROTOCOL.md §8 budget). A small Buffer is usually a view
 * into a shared 8 KiB pool slab, and holding it keeps the whole slab alive: counting message
 * lengths would undercount a store of sparse topics by up to the slab size per message. Each
 * backing ArrayBuffer is counted once, whole, while any ring holds a view of it.
 */
export class PinnedBytes {
  /** Backing store → views of it held; an entry per distinct store, so bounded by held messages. */
  private readonly holders = new Map<ArrayBufferLike, number>();
  private pinned = 0;

  get total(): number {
    return this.pinned;
  }

  hold(data: Buffer): void {
    const backing = data.buffer;
    const views = this.holders.get(backing);
    if (views === undefined) {
      this.holders.set(backing, 1);
      this.pinned += backing.byteLength;
    } else {
      this.holders.set(backing, views + 1);
    }
  }

  release(data: Buffer): void {
    const backing = data.buffer;
    const views = this.holders.get(backing);
    if (views === undefined) return;
    if (views > 1) {
      this.holders.set(backing, views - 1);
      return;
    }
    this.holders.delete(backing);
    this.pinned -= backing.byteLength;
  }
}
