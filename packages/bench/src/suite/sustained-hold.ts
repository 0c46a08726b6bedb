import { LatencyHistogram } from '../load/latency-histogram.js';
import { ms } from '../report/grid.js';
import { scrapeNodes, sumCounter } from '../server/node-observer.js';
import { closeSessions, openSessions } from './connections.js';
import { targetDescription, type Section, type SuiteContext } from './section.js';

export interface HoldOptions {
  connections: number;
  seconds: number;
  /** Each connection pings this often (staggered over the interval). */
  pingIntervalMs: number;
  timeoutMs: number;
}

/**
 * N connections held for T seconds, each pinging periodically (PROTOCOL.md §6): survival rate,
 * pings left unanswered, round trips, and the servers' own connection count at the end.
 */
export async function sustainedHold(ctx: SuiteContext, options: HoldOptions): Promise<Section> {
  const rtt = new LatencyHistogram();
  const opened = await openSessions(ctx.target, options.connections, {
    token: ctx.token, concurrency: 500, timeoutMs: options.timeoutMs, listener: { onPong: (_s, us) => rtt.record(us) },
  });
  const timers: NodeJS.Timeout[] = [];
  const live = opened.sessions.filter((s) => s.isReady);
  live.forEach((s, i) => {
    const start = setTimeout(() => {
      s.ping();
      timers.push(setInterval(() => s.isReady && s.ping(), options.pingIntervalMs));
    }, (i * options.pingIntervalMs) / Math.max(1, live.length));
    timers.push(start);
  });
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  for (const t of timers) clearTimeout(t);
  const survived = live.filter((s) => s.isReady).length;
  const serverConnections = sumCounter(await scrapeNodes(ctx.target.nodes, ['wse_connections']), 'wse_connections');
  // A ping sent in the last round trip may still be on its way: allow one per connection.
  const unanswered = live.reduce((n, s) => n + Math.max(0, s.pings - s.pongs - 1), 0);
  const closes = new Map<number, number>();
  for (const s of live) if (s.closed) closes.set(s.closeCode, (closes.get(s.closeCode) ?? 0) + 1);
  await closeSessions(opened.sessions);
  const h = rtt.summary();
  const survival = opened.ready === 0 ? 0 : (survived / opened.ready) * 100;
  ctx.progress(`sustained-hold: ${survived}/${options.connections} survived ${options.seconds} s`);
  return {
    title: 'sustained-hold',
    setup: `${targetDescription(ctx.target)}; ${options.connections} connections held ${options.seconds} s, one ping every ${options.pingIntervalMs} ms each; round trip in ms`,
    columns: ['connections', 'connected', 'survived', 'survival', 'server count', 'pings', 'unanswered', 'rtt p50', 'rtt p99', 'rtt max'],
    rows: [[String(options.connections), String(opened.ready), String(survived), `${survival.toFixed(1)}%`,
      serverConnections === null ? 'n/a' : String(serverConnections), String(h.count), String(unanswered), ms(h.p50), ms(h.p99), ms(h.max)]],
    notes: [
      ...(opened.failed === 0 ? [] : [`${opened.failed} failed to connect, first: ${opened.firstError}`]),
      ...(closes.size === 0 ? [] : [`closed by the server: ${[...closes].map(([c, n]) => `${n}×${c}`).join(', ')}`]),
    ],
    failed: survived < options.connections || unanswered > 0,
    data: { ...opened, sessions: undefined, survived, serverConnections, unanswered, rtt: h, closes: Object.fromEntries(closes) },
  };
}
