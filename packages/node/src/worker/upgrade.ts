import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { authFailure, type Authenticator, type AuthResult } from '../auth/index.js';
import { uuidv7 } from '../protocol/clock.js';
import { TokenBucket } from '../protocol/rate-limiter.js';
import { TopicAcl } from '../topics/acl.js';
import type { WorkerContext } from './context.js';
import { Session, type SessionRef } from './session.js';

/** Sockets in the pre-upgrade phase, e.g. waiting for a JWKS fetch (PROTOCOL.md §1). */
export class PendingUpgrades {
  count = 0;
}

/**
 * PROTOCOL.md §1–§2: capacity and drain checks before anything else, then the token is verified
 * before the upgrade completes. A failed authentication still upgrades (a browser cannot read an
 * HTTP status); the open handler then sends the error frame and closes 4401.
 */
export function handleUpgrade(
  ctx: WorkerContext,
  authenticator: Authenticator,
  pending: PendingUpgrades,
  isDraining: () => boolean,
  res: HttpResponse,
  req: HttpRequest,
  context: us_socket_context_t,
): void {
  const limits = ctx.config.limits;
  const rejection = isDraining()
    ? 'draining'
    : ctx.metrics.counts.connectionsOpen + pending.count >= limits.maxConnections
      ? 'capacity'
      : pending.count >= limits.maxPendingUpgrades
        ? 'pending_upgrades'
        : null;
  if (rejection !== null) {
    ctx.metrics.connectionsRejected.inc({ reason: rejection });
    res.close();
    return;
  }
  const key = req.getHeader('sec-websocket-key');
  const cookie = req.getHeader('cookie');
  const authorization = req.getHeader('authorization');
  // The original reads only `format=msgpack`, as a substring of the raw query (§1).
  const msgpack = req.getQuery()?.includes('format=msgpack') ?? false;

  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  pending.count++;
  const deadline = setTimeout(() => {
    if (aborted) return;
    aborted = true;
    ctx.metrics.connectionsRejected.inc({ reason: 'upgrade_timeout' });
    res.close();
  }, limits.upgradeTimeoutMs);

  authenticator.authenticate(cookie, authorization).then(
    (auth) => complete(auth),
    // authenticate() answers every bad token itself; a rejection here is a bug, and fails closed.
    () => complete(authFailure('malformed')),
  );

  function complete(auth: AuthResult): void {
    pending.count--;
    clearTimeout(deadline);
    if (aborted) return;
    const ref: SessionRef & { auth: AuthResult } = { session: createSession(ctx, auth, msgpack), auth };
    // No subprotocol and no extensions: permessage-deflate must not be accepted (§1).
    res.cork(() => res.upgrade(ref, key, '', '', context));
  }
}

function createSession(ctx: WorkerContext, auth: AuthResult, msgpack: boolean): Session {
  const connectionId = uuidv7();
  const identity = auth.ok ? auth.identity : { userId: null, claims: {}, topics: TopicAcl.denyAll(), publish: null };
  const session = new Session(
    connectionId,
    identity,
    msgpack,
    new TokenBucket(ctx.config.rateLimit.capacity, ctx.config.rateLimit.refillPerSecond),
    ctx.config.limits.maxOutboundQueueBytes,
    ctx.config.compressionThreshold,
    Date.now(),
    ctx.config.signingKey,
  );
  session.userId = identity.userId ?? connectionId;
  return session;
}
