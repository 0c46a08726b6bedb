import { isUtf8 } from 'node:buffer';
import { Flag } from '../frame/constants.js';
import { decompressCapped } from '../frame/compression.js';
import type { FrameView } from '../frame/decoder.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { MemberCounters } from '../metrics.js';
import type { MeshLogger } from '../options.js';

export type DeliverHandler = (topic: string, stamped: Buffer, epoch: number, offset: number, origin: string) => void;
export type UnstampedHandler = (topic: string, payload: Buffer, origin: string) => void;

/** Where a stamped MSG's position is recorded before delivery (the sequencer, §E.a). */
export interface PositionRecorder {
  onStampedMsg(topic: string, epoch: number, offset: number, stamper: string): void;
}

/**
 * Hands messages to the server for its local subscribers: MSGs received from peers (§7; never
 * forwarded again, single hop) and the messages this member sequences itself. A handler that
 * throws is counted, never allowed to break a link.
 */
export class LocalDelivery {
  /** Every stamped message this member fans out locally, synchronously. */
  onDeliver: DeliverHandler | null = null;
  /** MSGs without a trailer (original members, or recovery off). */
  onUnstamped: UnstampedHandler | null = null;

  constructor(
    private readonly positions: PositionRecorder,
    private readonly recovery: boolean,
    private readonly counters: MemberCounters,
    private readonly log: MeshLogger,
  ) {}

  /** A MSG from `link`: decompress or copy the payload, check it is UTF-8 (§2), deliver it. */
  receive(link: MeshLink, view: FrameView): void {
    const topic = link.topics.decode(view.buf, view.topicStart, view.topicLen);
    if (topic === null) return link.close('bad-utf8');
    let payload: Buffer | null;
    if ((view.flags & Flag.COMPRESSED) === 0) payload = view.utf8PayloadCopy();
    else {
      payload = decompressCapped(view.payload());
      if (payload !== null && !isUtf8(payload)) payload = null;
    }
    if (payload === null) {
      this.counters.badFrames++;
      return link.close('bad-payload');
    }
    if (view.hasTrailer && this.recovery) {
      this.positions.onStampedMsg(topic, view.epoch, view.offset, link.peerId);
      return this.deliver(topic, payload, view.epoch, view.offset, link.peerId);
    }
    this.deliverUnstamped(topic, payload, link.peerId);
  }

  deliver(topic: string, stamped: Buffer, epoch: number, offset: number, origin: string): void {
    const fn = this.onDeliver;
    if (fn === null) return;
    try {
      fn(topic, stamped, epoch, offset, origin);
    } catch (err) {
      if (this.counters.drops['deliver-error']++ === 0) this.log.error({ err }, 'mesh: onDeliver threw');
    }
  }

  deliverUnstamped(topic: string, payload: Buffer, origin: string): void {
    const fn = this.onUnstamped;
    if (fn === null) return;
    try {
      fn(topic, payload, origin);
    } catch {
      this.counters.drops['deliver-error']++;
    }
  }
}
