import type { Worker } from 'node:cluster';

/** Restart policy of one worker slot (DESIGN.md, process model). */
export const RESTART_POLICY = {
  firstDelayMs: 250,
  maxDelayMs: 30_000,
  /** A worker that stayed up this long resets the backoff. */
  stableAfterMs: 60_000,
  /** This many exits within the window stops restarting the slot. */
  crashLoopExits: 5,
  crashLoopWindowMs: 60_000,
} as const;

/** One of the node's W worker positions: index i owns mesh port base + i. */
export class WorkerSlot {
  worker: Worker | null = null;
  ready = false;
  /** Set while the supervisor itself stops this worker: its exit is not a crash. */
  stopping = false;
  startedAtMs = 0;
  restarts = 0;
  crashLooping = false;
  private exits: number[] = [];
  private delayMs: number = RESTART_POLICY.firstDelayMs;

  constructor(readonly index: number) {}

  /** Records an unexpected exit; returns the delay before the next start, or null to give up. */
  recordExit(nowMs: number): number | null {
    if (nowMs - this.startedAtMs >= RESTART_POLICY.stableAfterMs) this.delayMs = RESTART_POLICY.firstDelayMs;
    this.exits = this.exits.filter((at) => nowMs - at < RESTART_POLICY.crashLoopWindowMs);
    this.exits.push(nowMs);
    if (this.exits.length >= RESTART_POLICY.crashLoopExits) {
      this.crashLooping = true;
      return null;
    }
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, RESTART_POLICY.maxDelayMs);
    return delay;
  }
}
