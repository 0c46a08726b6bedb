/**
 * JavaScript cost of one client publication through the worker: decode, rate limit, checks, intake,
 * local sequencing, recovery ring, ack and fan-out — everything but uWS. uWS's side (`app.publish`,
 * the socket writes) is replaced by counters, so the figure is the worker's own JavaScript per
 * message, the same at any subscriber count (one `app.publish` per message, DESIGN.md).
 *
 * Two frame shapes: the usual one, which the publish fast path reads, and the same frame with its
 * first member name escaped (`"\u0074"` for `"t"`), which the fast path gives up on at once and
 * leaves to JSON.parse. Rounds alternate; medians of 15 rounds of 50,000 publications, one process.
 *
 *   node dist/bench/publish-path.js [--rounds 15]
 */
import type { TemplatedApp } from 'uWebSockets.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { decodeInbound } from '../src/protocol/inbound.js';
import { TokenBucket } from '../src/protocol/rate-limiter.js';
import { TopicAcl } from '../src/topics/acl.js';
import { handleClientMessage } from '../src/worker/client-protocol.js';
import { createWorkerContext } from '../src/worker/create-context.js';
import { Session, type SessionSocket } from '../src/worker/session.js';

const ROUND = 50_000;
/** Publications per fan-out flush: the bench client's window. */
const PER_TURN = 16;
const FRAMES = 4096;

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 15;
const counts = { published: 0, sent: 0 };
const config = await loadConfig({ jwtSecret: 'x'.repeat(32), rateLimitCapacity: 1e9, rateLimitRefill: 1e9 }, {});
const app = {
  publish: () => ++counts.published > 0,
  numSubscribers: () => 100,
} as unknown as TemplatedApp;
const ctx = createWorkerContext(config, app, createLogger('silent'), 0, null);
const session = publisher();
const shapes = { 'fast path': frames('t'), 'general path': frames('\\u0074') };
const results: Record<string, number[]> = { 'fast path': [], 'general path': [] };

for (const list of Object.values(shapes)) round(list); // warm-up, both shapes
for (let r = 0; r < rounds; r++) for (const [name, list] of Object.entries(shapes)) results[name]!.push(round(list));
const fast = median(results['fast path']!);
const general = median(results['general path']!);
console.log(`ns per publication, median of ${rounds} rounds of ${ROUND}:`);
console.log(`  fast path     ${fast.toFixed(0)}`);
console.log(`  general path  ${general.toFixed(0)}`);
console.log(`  fast / general ${(fast / general).toFixed(2)}   (acks sent ${counts.sent}, app.publish calls ${counts.published})`);

function round(list: ArrayBuffer[]): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUND; i++) {
    session.lastActivityMs = Date.now();
    const inbound = decodeInbound(list[i % FRAMES]!, false, session);
    if (inbound.kind !== 'message') throw new Error(`frame not decoded: ${inbound.kind}`);
    handleClientMessage(ctx, session, inbound.msg);
    if (i % PER_TURN === PER_TURN - 1) ctx.fanout.flush();
  }
  return Number(process.hrtime.bigint() - started) / ROUND;
}

/** The bench client's publish frame (~150 bytes), with the `t` member's name spelled `tName`. */
function frames(tName: string): ArrayBuffer[] {
  return Array.from({ length: FRAMES }, (_, i) => {
    const text = `{"${tName}":"publish","p":{"topic":"bench-topic-1","type":"bench","data":{"s":${100_000 + i},"ts":${1_700_000_000_000_000 + i},"pad":"${'x'.repeat(30)}"}},"cid":"${100_000 + i}"}`;
    return new TextEncoder().encode(text).buffer as ArrayBuffer;
  });
}

function publisher(): Session {
  const identity = { userId: 'bench', claims: {}, topics: TopicAcl.allowAll(), publish: TopicAcl.allowAll() };
  const bucket = new TokenBucket(config.rateLimit.capacity, config.rateLimit.refillPerSecond);
  const s = new Session('bench', identity, false, bucket, config.limits.maxOutboundQueueBytes, config.compressionThreshold, Date.now(), null);
  s.ws = {
    send: () => ++counts.sent,
    getBufferedAmount: () => 0,
    cork: (work: () => void) => work(),
  } as unknown as SessionSocket;
  ctx.sessions.add(s);
  return s;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
