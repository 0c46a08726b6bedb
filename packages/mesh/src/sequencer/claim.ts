import type { MeshLink } from '../link/mesh-link.js';
import type { Position } from './topic-state.js';

/** One SEQ_CLAIM round for one topic (§E.a steps 1–3). */
export class Claim {
  readonly relinquished: Position[] = [];
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    readonly topic: string,
    /** Candidates live at claim time that have not answered yet. */
    readonly waiting: Set<MeshLink>,
  ) {}
}

/** §E.a step 4: the larger offset wins, then the larger epoch value. */
export function bestPosition(positions: readonly Position[]): Position | null {
  let best: Position | null = null;
  for (const p of positions) {
    if (best === null || p.offset > best.offset || (p.offset === best.offset && p.epoch > best.epoch)) best = p;
  }
  return best;
}

/** A random u32 different from every epoch recorded for the topic. */
export function newEpoch(recorded: readonly number[], random: () => number = Math.random): number {
  for (;;) {
    const e = Math.floor(random() * 0x1_0000_0000) >>> 0;
    if (!recorded.includes(e)) return e;
  }
}
