import { readFileSync } from 'node:fs';
import { count } from '../report/grid.js';
import { closeSessions, openSessions } from './connections.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface LimitOptions {
  /** Highest count tried. */
  max: number;
  /** First probe level; the probe doubles it until a level fails or `max` is reached. */
  start: number;
  holdSeconds: number;
  /** The binary search stops when the stable and the failing count are this close. */
  precision: number;
  /** Loopback source addresses used in turn; 0 = as many as `max` needs given the ephemeral port range. */
  sourceAddresses: number;
  concurrency: number;
  timeoutMs: number;
}

interface Level {
  connections: number;
  ready: number;
  survived: number;
  stable: boolean;
  firstError: string;
}

/**
 * The most connections the target holds stably: a level is stable when every connection reaches
 * `server_ready` and is still open after the hold. Probe by doubling, then binary search between the
 * last stable and the first failing level. Beyond one source address's ephemeral ports, connections
 * come from 127.0.0.2, 127.0.0.3, … in turn.
 */
export async function connectionLimit(ctx: SuiteContext, options: LimitOptions): Promise<Section> {
  const addresses = sourceAddresses(options);
  const levels: Level[] = [];
  const tryLevel = async (n: number): Promise<Level> => {
    const level = await holdLevel(ctx, n, options, addresses);
    levels.push(level);
    ctx.progress(`connection-limit ${n}: ${level.stable ? 'stable' : `failed (${level.ready} ready, ${level.survived} survived: ${level.firstError})`}`);
    return level;
  };
  let good = 0;
  let bad = Infinity;
  for (let n = Math.min(options.start, options.max); ; n = Math.min(n * 2, options.max)) {
    if ((await tryLevel(n)).stable) good = n;
    else bad = n;
    if (bad !== Infinity || n === options.max) break;
  }
  while (bad !== Infinity && bad - good > options.precision) {
    const mid = Math.floor((good + bad) / 2);
    if ((await tryLevel(mid)).stable) good = mid;
    else bad = mid;
  }
  const verdict = bad === Infinity ? `no failure up to --max ${count(options.max)}` : `first failure at ${count(bad)}: ${levels.find((l) => l.connections === bad)?.firstError}`;
  return {
    title: 'connection-limit',
    setup: `${targetDescription(ctx.target)}; each level held ${options.holdSeconds} s; ${addresses.length} source address(es) (${addresses[0]}…)`,
    columns: ['connections', 'ready', 'survived', 'stable'],
    rows: levels.map((l) => [count(l.connections), count(l.ready), count(l.survived), l.stable ? 'yes' : 'no']),
    notes: [`stable maximum: ${count(good)} (${verdict})`],
    failed: false,
    data: { stableMax: good, firstFailure: bad === Infinity ? null : bad, sourceAddresses: addresses, levels },
  };
}

async function holdLevel(ctx: SuiteContext, n: number, options: LimitOptions, addresses: string[]): Promise<Level> {
  const opened = await openSessions(ctx.target, n, { token: ctx.token, concurrency: options.concurrency, timeoutMs: options.timeoutMs, localAddresses: addresses });
  await new Promise((resolve) => setTimeout(resolve, options.holdSeconds * 1000));
  const survived = opened.sessions.filter((s) => s.isReady).length;
  const firstError = opened.firstError || (opened.sessions.find((s) => s.closed)?.error ?? '');
  await closeSessions(opened.sessions, 10_000);
  return { connections: n, ready: opened.ready, survived, stable: opened.ready === n && survived === n, firstError };
}

function sourceAddresses(options: LimitOptions): string[] {
  const wanted = options.sourceAddresses > 0 ? options.sourceAddresses : Math.ceil(options.max / ephemeralPorts());
  return Array.from({ length: Math.min(254, Math.max(1, wanted)) }, (_, i) => `127.0.0.${i + 1}`);
}

/** Ports one source address has towards one destination (Linux ip_local_port_range). */
function ephemeralPorts(): number {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low !== undefined && high !== undefined && high > low) return high - low + 1;
  } catch {
    // not Linux: assume the common default
  }
  return 28_232;
}
