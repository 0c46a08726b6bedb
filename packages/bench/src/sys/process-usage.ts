import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** CPU time and resident memory of a process and all its descendants, read from Linux /proc. */
export interface TreeUsage {
  cpuMicros: number;
  rssBytes: number;
  processes: number;
}

let units: { ticksPerSecond: number; pageBytes: number } | null = null;

export function sampleProcessTree(rootPid: number): TreeUsage | null {
  return sampleProcessTrees([rootPid])[0] ?? null;
}

/** Several trees from one reading of /proc (e.g. every node of a cluster at the same moment). */
export function sampleProcessTrees(rootPids: readonly number[]): Array<TreeUsage | null> {
  const stats = readAllStats();
  return rootPids.map((pid) => treeUsage(stats, pid));
}

function treeUsage(stats: Map<number, Stat>, rootPid: number): TreeUsage | null {
  units ??= { ticksPerSecond: sysconf('CLK_TCK', 100), pageBytes: sysconf('PAGESIZE', 4096) };
  const { ticksPerSecond, pageBytes } = units;
  if (!stats.has(rootPid)) return null;
  const usage: TreeUsage = { cpuMicros: 0, rssBytes: 0, processes: 0 };
  const pending = [rootPid];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    const stat = stats.get(pid);
    if (stat === undefined) continue;
    usage.cpuMicros += ((stat.utime + stat.stime) / ticksPerSecond) * 1e6;
    usage.rssBytes += stat.rssPages * pageBytes;
    usage.processes++;
    for (const [child, s] of stats) if (s.ppid === pid) pending.push(child);
  }
  return usage;
}

interface Stat {
  ppid: number;
  utime: number;
  stime: number;
  rssPages: number;
}

function readAllStats(): Map<number, Stat> {
  const stats = new Map<number, Stat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // proc(5): fields after the parenthesised command name, which may itself hold spaces.
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(entry), {
        ppid: Number(fields[1]),
        utime: Number(fields[11]),
        stime: Number(fields[12]),
        rssPages: Number(fields[21]),
      });
    } catch {
      // exited while we looked
    }
  }
  return stats;
}

function sysconf(name: string, fallback: number): number {
  try {
    const value = Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}
