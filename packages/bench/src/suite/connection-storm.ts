import { LatencyHistogram } from '../load/latency-histogram.js';
import { count, ms } from '../report/grid.js';
import { closeSessions, openSessions } from './connections.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface StormOptions {
  tiers: number[];
  /** Connections in flight at once. */
  concurrency: number;
  timeoutMs: number;
}

/**
 * Accept rate and handshake latency: per tier, N connections opened as fast as the server takes
 * them; upgrade = connect to `101`, ready = connect to `server_ready` (PROTOCOL.md §5).
 */
export async function connectionStorm(ctx: SuiteContext, options: StormOptions): Promise<Section> {
  const rows: string[][] = [];
  const data: unknown[] = [];
  const notes: string[] = [];
  let failed = false;
  for (const tier of options.tiers) {
    const opened = await openSessions(ctx.target, tier, { token: ctx.token, concurrency: options.concurrency, timeoutMs: options.timeoutMs });
    const upgrade = new LatencyHistogram();
    const ready = new LatencyHistogram();
    for (const s of opened.sessions) {
      if (s.upgradedUs > 0) upgrade.record(s.upgradedUs - s.startedUs);
      if (s.readyUs > 0) ready.record(s.readyUs - s.startedUs);
    }
    await closeSessions(opened.sessions);
    const acceptsPerSec = opened.ready / (opened.elapsedUs / 1e6);
    const u = upgrade.summary(), r = ready.summary();
    rows.push([String(tier), String(opened.ready), String(opened.failed), count(acceptsPerSec), ms(u.p50), ms(u.p99), ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max)]);
    data.push({ tier, ...opened, sessions: undefined, acceptsPerSec, upgrade: u, ready: r });
    failed ||= opened.failed > 0;
    if (opened.failed > 0) notes.push(`${tier}: ${opened.failed} failed, first: ${opened.firstError}`);
    ctx.progress(`connection-storm ${tier}: ${opened.ready} ready, ${opened.failed} failed, ${count(acceptsPerSec)}/s`);
  }
  return {
    title: 'connection-storm',
    setup: `${targetDescription(ctx.target)}; ${options.concurrency} connections in flight; latency from connect to the 101 (upgrade) and to server_ready (ready), ms`,
    columns: ['connections', 'ready', 'failed', 'accepts/s', 'upgrade p50', 'upgrade p99', 'ready p50', 'ready p90', 'ready p99', 'ready max'],
    rows,
    notes,
    failed,
    data,
  };
}
