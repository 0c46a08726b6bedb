import type { MeshLink } from '../link/mesh-link.js';
import type { Position } from './topic-state.js';

/**
 * Before SEQ_CLAIM goes out the claim waits for this member's view of the mesh to settle
 * ('settling'); then it waits for the candidates' answers ('asking').
 */
export type ClaimPhase = 'settling' | 'asking';

/** One SEQ_CLAIM round for one topic (§E.a steps 1–3). */
export class Claim {
  phase: ClaimPhase = 'settling';
  readonly relinquished: Position[] = [];
  /** Candidates asked that have not answered yet. */
  readonly waiting = new Set<MeshLink>();
  /** The settle bound, then the answer bound. */
  timer: NodeJS.Timeout | null = null;

  constructor(
    readonly id: number,
    readonly topic: string,
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
