import { FrameType, MAX_FRAME, MAX_TOPIC_BYTES } from '../frame/constants.js';
import { MeshError } from '../errors.js';
import type { InterestRouting } from '../interest/interest-routing.js';
import type { LocalDelivery } from './local-delivery.js';

/**
 * Publishing without recovery (§7): no sequencer, no stamp; the message goes to local subscribers
 * and as a plain MSG to every interested link. It waits while a target link is above its
 * high-water mark (§E.b.3), like a sequenced publish.
 */
export class UnstampedPublisher {
  /** Publishers waiting for a full link to drain (bounded by the callers' own pacing). */
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly selfId: string,
    private readonly interest: InterestRouting,
    private readonly delivery: LocalDelivery,
    private readonly isStarted: () => boolean,
  ) {}

  async publish(topic: string, body: Buffer): Promise<null> {
    const t = Buffer.from(topic, 'utf8');
    if (t.length === 0 || t.length > MAX_TOPIC_BYTES || body.length + t.length + 8 > MAX_FRAME) {
      throw new MeshError('WSE_ERR_MESH_OVERSIZE', 'message does not fit a mesh frame', { topic });
    }
    for (;;) {
      if (!this.isStarted()) throw new MeshError('WSE_ERR_MESH_STOPPED', 'mesh member stopped');
      const targets = this.interest.targets(topic);
      if (!targets.some((l) => l.out.full)) {
        this.delivery.deliverUnstamped(topic, body, this.selfId);
        for (const l of targets) l.send(FrameType.MSG, 0, t, body);
        return null;
      }
      // Until a link drains below its low-water mark or closes.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** A link drained, closed, or the member stopped: waiting publishers look again. */
  wake(): void {
    if (this.waiting.length === 0) return;
    for (const wake of this.waiting.splice(0)) wake();
  }
}
