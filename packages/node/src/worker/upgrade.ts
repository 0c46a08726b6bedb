import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { authFailure, type Authenticator, type AuthResult } from '../auth/index.js';
import { uuidv7 } from '../protocol/clock.js';
import { TokenBucket } from '../protocol/rate-limiter.js';
import { TopicAcl } from '../topics/acl.js';
import type { WorkerContext } from './context.js';
import { Session, type SessionSocket, type SocketState } from './session.js';

/** Messages (and their bytes) a client may send before its `server_ready`; clients wait for it (PROTOCOL.md §1). */
const MAX_EARLY_MESSAGES = 32;
const MAX_EARLY_BYTES = 64 * 1024;

/** Called once a socket's authentication has settled and its session exists. */
export type SessionReady = (ws: SessionSocket, session: Session, auth: AuthResult) => void;

/**
 * The handshake of a `/wse` socket (PROTOCOL.md §1–§2): capacity and drain checks, the 101, then
 * the token check. The upgrade is synchronous, inside uWS's own request callback, and the token is
 * verified after it: §2 reports a bad token after the 101 anyway. An upgrade completed later, from a
 * promise, needs `res.cork()`, and uWS 20.30's cork can mistake the new WebSocket for the old
 * HttpResponse when the allocator hands back the same address — it then shuts the socket down, a
 * random 1006 for a few connections in every burst.
 *
 * Sockets still authenticating are bounded by --max-pending-upgrades and --upgrade-timeout.
 */
export class Handshakes {
  /** Sockets whose token check has not settled, with their --upgrade-timeout timers. */
  private readonly authenticating = new Map<SessionSocket, NodeJS.Timeout>();

  constructor(
    private readonly ctx: WorkerContext,
    private readonly authenticator: Authenticator,
    private readonly onReady: SessionReady,
  ) {}

  get pending(): number {
    return this.authenticating.size;
  }

  upgrade(res: HttpResponse, req: HttpRequest, context: us_socket_context_t, draining: boolean): void {
    const rejection = this.rejection(draining);
    if (rejection !== null) {
      this.ctx.metrics.connectionsRejected.inc({ reason: rejection });
      res.close();
      return;
    }
    const state: SocketState = {
      session: null,
      handshake: {
        cookie: req.getHeader('cookie'),
        authorization: req.getHeader('authorization'),
        // The original reads only `format=msgpack`, as a substring of the raw query (§1).
        msgpack: req.getQuery()?.includes('format=msgpack') ?? false,
      },
      early: [],
      earlyBytes: 0,
    };
    // No subprotocol and no extensions: permessage-deflate must not be accepted (§1).
    res.upgrade(state, req.getHeader('sec-websocket-key'), '', '', context);
  }

  /** The socket is open: verify its token; the session starts when that settles. */
  open(ws: SessionSocket): void {
    const state = ws.getUserData();
    const handshake = state.handshake;
    if (handshake === null) return;
    this.authenticating.set(ws, setTimeout(() => this.abandon(ws, 'upgrade_timeout'), this.ctx.config.limits.upgradeTimeoutMs));
    const settle = (auth: AuthResult): void => {
      if (!this.forget(ws)) return;
      state.handshake = null;
      const session = createSession(this.ctx, auth, handshake.msgpack);
      session.ws = ws;
      state.session = session;
      ws.cork(() => this.onReady(ws, session, auth));
    };
    this.authenticator.authenticate(handshake.cookie, handshake.authorization).then(
      settle,
      // authenticate() answers every bad token itself; a rejection here is a bug, and fails closed.
      () => settle(authFailure('malformed')),
    );
  }

  /**
   * A message before the session exists waits for it, in order. A client that overruns the bound
   * is closed without a status, like one over capacity (§1).
   */
  hold(ws: SessionSocket, message: ArrayBuffer, isBinary: boolean): void {
    const state = ws.getUserData();
    if (state.handshake === null) return; // abandoned, closing
    state.earlyBytes += message.byteLength;
    if (state.early.length >= MAX_EARLY_MESSAGES || state.earlyBytes > MAX_EARLY_BYTES) {
      this.ctx.metrics.inboundDropped.inc({ reason: 'before_ready' });
      this.abandon(ws, 'early_messages');
      return;
    }
    state.early.push({ data: message.slice(0), isBinary });
  }

  /** The socket closed before its authentication settled. */
  closed(ws: SessionSocket): void {
    this.forget(ws);
  }

  /** Drain: sockets still authenticating get the drain close code too. */
  closeAll(code: number, reason: string): void {
    for (const ws of [...this.authenticating.keys()]) {
      this.forget(ws);
      ws.end(code, reason);
    }
  }

  private rejection(draining: boolean): string | null {
    const limits = this.ctx.config.limits;
    if (draining) return 'draining';
    if (this.ctx.metrics.counts.connectionsOpen + this.pending >= limits.maxConnections) return 'capacity';
    if (this.pending >= limits.maxPendingUpgrades) return 'pending_upgrades';
    return null;
  }

  /** Stops tracking a socket; false when it was not authenticating any more. */
  private forget(ws: SessionSocket): boolean {
    const deadline = this.authenticating.get(ws);
    if (deadline === undefined) return false;
    clearTimeout(deadline);
    this.authenticating.delete(ws);
    return true;
  }

  private abandon(ws: SessionSocket, reason: string): void {
    if (!this.forget(ws)) return;
    ws.getUserData().handshake = null;
    this.ctx.metrics.connectionsRejected.inc({ reason });
    ws.end();
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
