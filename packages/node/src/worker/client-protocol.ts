import { isRecord } from '../json-object.js';
import { isoNow } from '../protocol/clock.js';
import { errorFrame, pongFrame, rateLimitedFrame, rateLimitWarningFrame } from '../protocol/control-frames.js';
import { E2ECipher } from '../protocol/e2e.js';
import { connectionEvent, serverHelloEvent } from '../protocol/events.js';
import type { ClientMessage } from '../protocol/inbound.js';
import type { WorkerContext } from './context.js';
import { handleClientPublish } from './publish-handler.js';
import type { Session } from './session.js';
import { handleSubscriptionUpdate } from './subscribe-handler.js';

/** Inner messages of one `batch` frame processed at most (each still costs a rate-limit token). */
const MAX_BATCH = 1000;

/** Dispatches one decoded client message by `t` (PROTOCOL.md §3.2: `c` is advisory). */
export function handleClientMessage(ctx: WorkerContext, session: Session, msg: ClientMessage, depth = 0): void {
  const t = msg.t;
  // Heartbeats and the handshake bypass the rate limit (§12).
  if (t === 'ping') return answerPing(session, msg.p);
  if (t === 'PONG' || t === 'pong') return;
  if (t === 'client_hello') return answerHello(ctx, session, msg.p);
  if (!withinRateLimit(ctx, session)) return;
  switch (t) {
    case 'subscription_update':
    case 'subscription':
      return handleSubscriptionUpdate(ctx, session, msg.p);
    case 'publish':
      return handleClientPublish(ctx, session, msg.p, msg.cid);
    case 'sync_request':
      return answerSync(session, msg.p);
    case 'health_check':
      return answerHealthCheck(ctx, session);
    case 'metrics_request':
      return answerMetrics(session);
    case 'config_update':
      return applyConfigUpdate(session, msg.p);
    case 'batch':
      if (depth === 0) processBatch(ctx, session, msg.p);
      return;
    default:
      // Application messages (BENCH's `trade_update`, client probes' `*_response`): no reply (§10).
      return;
  }
}

function answerPing(session: Session, p: Record<string, unknown>): void {
  const echo = typeof p['timestamp'] === 'number' ? p['timestamp'] : typeof p['client_timestamp'] === 'number' ? p['client_timestamp'] : 0;
  // §6: the PONG is a plaintext text frame even for an encrypted ping.
  session.sendText(pongFrame(echo, Date.now()));
}

/** §5 and §13: the key exchange happens once per connection. */
function answerHello(ctx: WorkerContext, session: Session, p: Record<string, unknown>): void {
  let serverPublicKey: string | undefined;
  const features = p['features'];
  const wantsEncryption = isRecord(features) && features['encryption'] === true;
  const clientKey = p['encryption_public_key'];
  if (wantsEncryption && typeof clientKey === 'string' && !session.keyExchangeDone) {
    session.keyExchangeDone = true;
    try {
      const exchange = E2ECipher.fromClientPublicKey(clientKey);
      session.cipher = exchange.cipher;
      serverPublicKey = exchange.serverPublicKey;
      ctx.index.moveToDirect(session);
    } catch (error) {
      // E2ECipher's errors already read `ECDH key exchange failed: <detail>` (§11).
      const message = error instanceof Error ? error.message : `ECDH key exchange failed: ${String(error)}`;
      session.sendText(errorFrame('KEY_EXCHANGE_FAILED', message, { recoverable: true }));
    }
  }
  const limits = ctx.config.limits;
  // §3.1: server_hello is a plaintext text frame, even once the connection is encrypted.
  const hello = serverHelloEvent({
    connectionId: session.connectionId,
    pingIntervalMs: ctx.config.pingIntervalMs,
    maxMessageSize: limits.maxMessageSize,
    rateLimitCapacity: ctx.config.rateLimit.capacity,
    rateLimitRefill: ctx.config.rateLimit.refillPerSecond,
    maxInflightPublishes: limits.maxInflightPublishes,
    cluster: ctx.clustered,
    ...(serverPublicKey === undefined ? {} : { encryptionPublicKey: serverPublicKey }),
  });
  session.sendText(JSON.stringify(hello));
}

/** §12: one token per application message; warning and error at most once per second each. */
function withinRateLimit(ctx: WorkerContext, session: Session): boolean {
  // The frame's arrival, read once by the message handler (a clock read costs ~45 ns per message).
  const now = session.lastActivityMs;
  const verdict = session.bucket.take(now);
  if (verdict === 'ok') return true;
  if (verdict === 'warn') {
    if (now - session.lastWarningMs >= 1000) {
      session.lastWarningMs = now;
      session.sendText(rateLimitWarningFrame(session.bucket.capacity, session.bucket.tokens));
    }
    return true;
  }
  ctx.metrics.rateLimited.inc();
  if (now - session.lastLimitedMs >= 1000) {
    session.lastLimitedMs = now;
    session.sendText(rateLimitedFrame());
  }
  return false;
}

/** §10: no application snapshots live in the server, so the answer is an empty completion. */
function answerSync(session: Session, p: Record<string, unknown>): void {
  const topics = Array.isArray(p['topics']) ? p['topics'].filter((topic) => typeof topic === 'string') : [...session.topics];
  session.sendEvent(connectionEvent('snapshot_complete', { topics, count: 0 }, { c: 'S' }));
}

function answerHealthCheck(ctx: WorkerContext, session: Session): void {
  session.sendEvent(
    connectionEvent('health_check_response', {
      status: 'healthy',
      connection_id: session.connectionId,
      server_time: isoNow(),
      uptime_secs: Math.floor((Date.now() - ctx.startedAtMs) / 1000),
    }),
  );
}

function answerMetrics(session: Session): void {
  session.sendEvent(
    connectionEvent('metrics_response', {
      connection_id: session.connectionId,
      messages_received: session.stats.received,
      messages_sent: session.stats.sent,
      bytes_sent: session.stats.bytesSent,
      publications: session.stats.published,
      subscriptions: session.topics.size,
      connected_secs: Math.floor((Date.now() - session.openedAtMs) / 1000),
    }),
  );
}

/** §10: only the compression settings apply to this server; the rest is echoed back. */
function applyConfigUpdate(session: Session, p: Record<string, unknown>): void {
  if (p['compression_enabled'] === false) session.compressionThreshold = Number.POSITIVE_INFINITY;
  const threshold = p['compression_threshold'];
  if (typeof threshold === 'number' && Number.isFinite(threshold) && threshold >= 0 && p['compression_enabled'] !== false) {
    session.compressionThreshold = threshold;
  }
  const compressionEnabled = Number.isFinite(session.compressionThreshold);
  session.sendEvent(
    connectionEvent('config_update_response', {
      success: true,
      config: { compression_enabled: compressionEnabled, compression_threshold: compressionEnabled ? session.compressionThreshold : null },
    }),
  );
}

/** PY's `send_batch`: each inner message is processed as if received alone (§10). */
function processBatch(ctx: WorkerContext, session: Session, p: Record<string, unknown>): void {
  const messages = p['messages'];
  if (!Array.isArray(messages)) return;
  for (const inner of messages.slice(0, MAX_BATCH)) {
    if (!isRecord(inner)) continue;
    const t = inner['t'] ?? inner['type'];
    if (typeof t !== 'string') continue;
    const payload = inner['p'] ?? inner['payload'];
    const p = isRecord(payload) ? payload : {};
    const cid = typeof inner['cid'] === 'string' ? inner['cid'] : undefined;
    handleClientMessage(ctx, session, { t, p, ...(cid === undefined ? {} : { cid }) }, 1);
  }
}
