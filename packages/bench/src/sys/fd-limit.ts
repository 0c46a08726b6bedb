import { execFileSync } from 'node:child_process';

export interface FdLimit {
  soft: number;
  hard: number;
  /** How the limit was reached, or why it could not be raised. */
  note: string;
}

/**
 * Raises this process's open-file limit (inherited by every process it starts) as far as allowed:
 * first the hard limit to `target` (needs privilege), else the soft limit to the hard one.
 * Node has no setrlimit, so util-linux `prlimit` does it on our own pid.
 */
export function raiseFdLimit(target = 1_048_576): FdLimit {
  const before = readFdLimit();
  if (before === null) return { soft: NaN, hard: NaN, note: 'unknown (prlimit not available)' };
  if (before.soft >= target) return { ...before, note: 'already at target' };
  const tried = [`${target}:${target}`, `${before.hard}:${before.hard}`];
  for (const limits of tried) {
    try {
      execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${limits}`], { stdio: 'ignore' });
      const after = readFdLimit() ?? before;
      const note = after.hard > before.hard ? 'hard limit raised' : after.soft > before.soft ? 'soft limit raised to the hard limit' : 'unchanged';
      return { ...after, note };
    } catch {
      // not permitted: try the next, smaller step
    }
  }
  return { ...before, note: 'could not be raised' };
}

export function readFdLimit(): { soft: number; hard: number } | null {
  try {
    const out = execFileSync('prlimit', ['--pid', String(process.pid), '--nofile', '--output', 'SOFT,HARD', '--noheadings', '--raw'], { encoding: 'utf8' });
    const [soft, hard] = out.trim().split(/\s+/).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    return soft === undefined || hard === undefined ? null : { soft, hard };
  } catch {
    return null;
  }
}
