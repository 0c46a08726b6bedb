import type { MeshMember } from '@wse/mesh';
import type { RecoveryStore } from '../recovery/store.js';

/** How long a recovering subscribe waits for other members' rings before it is answered. */
export const RANGE_FETCH_TIMEOUT_MS = 1000;

/**
 * Fills this worker's recovery rings from other members' (docs/MESH-EXTENSIONS.md E.f) for
 * clients whose missed range it does not hold: it started after those messages, or had no
 * subscriber to the topic then.
 * One fetch per (topic, epoch) at a time: clients that reconnect together after a drain share it.
 */
export class RangeFetcher {
  private readonly inFlight = new Map<string, { from: number; done: Promise<void> }>();

  constructor(
    private readonly member: MeshMember,
    private readonly store: RecoveryStore,
  ) {}

  /** Resolves once the range is in the store, or nobody held it, or the wait ran out. */
  fetch(topic: string, epoch: number, from: number): Promise<void> {
    const key = `${epoch}:${topic}`;
    const running = this.inFlight.get(key);
    if (running !== undefined && running.from <= from) return running.done;
    // The member bounds its fetches in flight (beyond its cap, null at once, counted as `busy`), and
    // an entry here lives only while its fetch does: this map stays within that bound.
    const done = this.member.fetchRange(topic, epoch, from, RANGE_FETCH_TIMEOUT_MS).then((messages) => {
      if (messages !== null) this.store.insertRange(topic, epoch, from, messages);
      if (this.inFlight.get(key)?.done === done) this.inFlight.delete(key);
    });
    this.inFlight.set(key, { from, done });
    return done;
  }
}
