import { MeshError, type MeshMember } from '@wse/mesh';
import { WseError } from '../errors.js';
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

/** The sequencer is the topic's owner in the mesh (MESH.md E.a); it may be this worker itself. */
export class MeshRouter implements PublicationRouter {
  constructor(private readonly member: MeshMember) {}

  route(topic: string, body: string): Stamp | Promise<Stamp> {
    const bytes = Buffer.from(body);
    let stamp: Stamp | null;
    try {
      // The owner sequences at once when nothing for the topic waits: no promise per message.
      stamp = this.member.publishNow(topic, bytes);
    } catch (error) {
      throw meshPublishError(error);
    }
    if (stamp !== null) return stamp;
    return this.member.publish(topic, bytes).then(
      (stamp) => {
        if (stamp === null) throw new WseError('WSE_ERR_INTERNAL', 'the mesh published without a stamp', { protocolCode: 'SERVER_ERROR' });
        return stamp;
      },
      (error: unknown) => {
        throw meshPublishError(error);
      },
    );
  }
}

/** Maps a mesh refusal onto the §19 publish error codes. */
function meshPublishError(error: unknown): WseError {
  const code = error instanceof MeshError ? error.code : null;
  if (code === 'WSE_ERR_MESH_OVERSIZE') return new WseError('WSE_ERR_MESSAGE_TOO_LARGE', 'Publication too large after stamping', { protocolCode: 'MESSAGE_TOO_LARGE', cause: error });
  if (code === 'WSE_ERR_MESH_INVALID_BODY' || code === 'WSE_ERR_MESH_PUBLISH_REJECTED') {
    return new WseError('WSE_ERR_INVALID_PUBLISH', 'The topic owner refused the publication', { protocolCode: 'INVALID_PUBLISH', cause: error });
  }
  return new WseError('WSE_ERR_INTERNAL', 'The mesh could not take the publication', { protocolCode: 'SERVER_ERROR', cause: error });
}
