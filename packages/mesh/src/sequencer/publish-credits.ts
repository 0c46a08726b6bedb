import { FrameType } from '../frame/constants.js';
import { encodeU32 } from '../frame/payloads.js';
import { CreditReturn } from '../flow/credit-return.js';
import { CreditWindow } from '../flow/credit-window.js';
import type { MeshLink } from '../link/mesh-link.js';
import type { SequencerSettings } from './host.js';
import type { PendingPublish } from './topic-state.js';

/** A PUBLISH this member sent, until the owner answers it (PUBACK or bounce) and credits it. */
export interface SentPublish {
  item: PendingPublish;
  size: number;
  settled: boolean;
  /** The member it was sent to. */
  sentTo: string;
}

interface LinkCredits {
  window: CreditWindow<SentPublish>;
  returns: CreditReturn;
}

type CreditSettings = Pick<SequencerSettings, 'creditFrames' | 'creditBytes' | 'creditFlushMs'>;

/**
 * §E.b.5 PUBLISH credits on every SEQUENCER link, both ways: the window of PUBLISH frames this
 * member sent that the link has not credited yet (and which of them still wait for an answer), and
 * the CREDIT it owes the link for the PUBLISH frames it received.
 */
export class PublishCredits {
  private readonly perLink = new Map<MeshLink, LinkCredits>();
  private readonly byCid = new Map<string, SentPublish>();

  constructor(private readonly s: CreditSettings) {}

  /** PUBLISH frames sent and not yet credited, all links. */
  get outstanding(): number {
    let n = 0;
    for (const lc of this.perLink.values()) n += lc.window.frames;
    return n;
  }

  open(link: MeshLink): void {
    const returns = new CreditReturn(Math.max(1, this.s.creditFrames >> 2), this.s.creditFlushMs, (n) =>
      link.send(FrameType.CREDIT, 0, null, encodeU32(n)),
    );
    this.perLink.set(link, { window: new CreditWindow(this.s.creditFrames, this.s.creditBytes), returns });
  }

  /**
   * The link closed: the publishes it never credited and nobody answered, oldest first, to re-send
   * (§E.b.7); null when it was not a SEQUENCER link.
   */
  close(link: MeshLink): PendingPublish[] | null {
    const lc = this.perLink.get(link);
    if (lc === undefined) return null;
    this.perLink.delete(link);
    lc.returns.close();
    const unanswered = lc.window.drain().filter((sp) => !sp.settled);
    for (const sp of unanswered) this.byCid.delete(sp.item.cid);
    return unanswered.map((sp) => sp.item);
  }

  /** A PUBLISH arrived on `link`: its credit token, or null when the link is not a SEQUENCER link. */
  arrive(link: MeshLink): number | null {
    return this.perLink.get(link)?.returns.arrive() ?? null;
  }

  /** A received PUBLISH is finished (sequenced, bounced or rejected): CREDIT it, batched. */
  finish(link: MeshLink, token: number): void {
    this.perLink.get(link)?.returns.finish(token);
  }

  /** Takes window space on `link` for a PUBLISH of `item` to `to`; false when it must wait. */
  reserve(link: MeshLink, to: string, item: PendingPublish): boolean {
    const lc = this.perLink.get(link);
    if (lc === undefined || link.out.full || !lc.window.canSend(item.size)) return false;
    const sp: SentPublish = { item, size: item.size, settled: false, sentTo: to };
    lc.window.add(sp);
    this.byCid.set(item.cid, sp);
    return true;
  }

  /** The owner answered `cid` (PUBACK or bounce): the sent publish, the first time only. */
  settle(cid: string): SentPublish | undefined {
    const sp = this.byCid.get(cid);
    if (sp === undefined || sp.settled) return undefined;
    this.byCid.delete(cid);
    sp.settled = true;
    return sp;
  }

  /** CREDIT(n) from `link`: its n oldest outstanding frames leave the window. */
  release(link: MeshLink, n: number): void {
    this.perLink.get(link)?.window.release(n);
  }

  /** Rejects every publish still waiting for an answer. */
  stop(err: Error): void {
    for (const sp of this.byCid.values()) sp.item.reject?.(err);
    this.byCid.clear();
    for (const lc of this.perLink.values()) lc.returns.close();
  }
}
