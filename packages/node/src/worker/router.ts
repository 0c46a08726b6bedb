import { stampPublication } from '../protocol/publication.js';
import type { RecoveryStore } from '../recovery/store.js';

/** A topic's position: epoch (u32) and offset within it (PROTOCOL.md §4). */
export interface Stamp {
  epoch: number;
  offset: number;
}

/** Called for every stamped message this worker must store and fan out locally. */
export type DeliverStamped = (topic: string, stamped: Buffer, epoch: number, offset: number) => void;

/**
 * Hands a publication to its topic's sequencer (DESIGN.md, data path step 2). A single worker owns
 * every topic and answers at once; a mesh member answers when the owner has sequenced it.
 */
export interface PublicationRouter {
  route(topic: string, body: string): Stamp | Promise<Stamp>;
}

/** The sequencer of a worker that is alone: it owns every topic. */
export class LocalRouter implements PublicationRouter {
  constructor(
    private readonly store: RecoveryStore,
    private readonly deliver: DeliverStamped,
  ) {}

  route(topic: string, body: string): Stamp {
    const stamp = this.store.nextStamp(topic);
    this.deliver(topic, stampPublication(topic, stamp.epoch, stamp.offset, body), stamp.epoch, stamp.offset);
    return stamp;
  }
}
