import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import { createAuthenticator, type Authenticator, type AuthResult } from '../auth/index.js';
import type { WseConfig } from '../config/types.js';
import { WseError } from '../errors.js';
import type { Logger } from '../log.js';
import { isoNow } from '../protocol/clock.js';
import { errorFrame, pingFrame, serverReadyFrame } from '../protocol/control-frames.js';
import { decodeInbound } from '../protocol/inbound.js';
import { registerHttpApi } from '../api/http-api.js';
import { handleClientMessage } from './client-protocol.js';
import type { WorkerContext } from './context.js';
import { createWorkerContext } from './create-context.js';
import { createMeshMember, isClustered } from './mesh-member.js';
import { CloseCode, type Session, type SessionSocket, type SocketState } from './session.js';
import { leavePresence } from './subscribe-handler.js';
import { Handshakes } from './upgrade.js';

const RECOVERY_SWEEP_MS = 30_000;
const CLOSE_LINGER_MS = 250;

/**
 * One worker: a uWebSockets.js app on the client port serving `/wse` and `/api/*`, with its
 * subscriptions, recovery rings and fan-out (DESIGN.md, process model).
 */
export class WorkerServer {
  readonly ctx: WorkerContext;
  private readonly handshakes: Handshakes;
  private listenSocket: us_listen_socket | null = null;
  private draining = false;
  private whenEmpty: (() => void) | null = null;
  private readonly timers: NodeJS.Timeout[] = [];

  private constructor(
    ctx: WorkerContext,
    private readonly authenticator: Authenticator,
  ) {
    this.ctx = ctx;
    this.handshakes = new Handshakes(ctx, authenticator, (ws, session, auth) => this.onReady(ws, session, auth));
  }

  static async start(config: WseConfig, logger: Logger, workerIndex = 0): Promise<WorkerServer> {
    const authenticator = await createAuthenticator(config.auth);
    const app = uWS.App();
    const member = isClustered(config) ? createMeshMember(config, workerIndex, logger) : null;
    const ctx = createWorkerContext(config, app, logger, workerIndex, member);
    await member?.start();
    const server = new WorkerServer(ctx, authenticator);
    server.mount(app);
    await server.listen(app);
    server.startTimers();
    return server;
  }

  get port(): number {
    return this.listenSocket === null ? 0 : uWS.us_socket_local_port(this.listenSocket);
  }

  get isDraining(): boolean {
    return this.draining;
  }

  private mount(app: TemplatedApp): void {
    const { config } = this.ctx;
    app.ws<SocketState>('/wse', {
      compression: uWS.DISABLED,
      // Frames a little over the limit get MESSAGE_TOO_LARGE and 1009; uWS drops far larger ones.
      maxPayloadLength: config.limits.maxMessageSize * 2,
      // Idle detection is ours (PROTOCOL.md §6), with the spec's close frames.
      idleTimeout: 0,
      sendPingsAutomatically: false,
      // The backstop: uWS closes a connection rather than skip it (§6); BacklogMonitor closes
      // with 4008 before this is reached.
      maxBackpressure: config.limits.maxOutboundQueueBytes,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => this.handshakes.upgrade(res, req, context, this.draining),
      open: (ws) => this.handshakes.open(ws),
      message: (ws, message, isBinary) => {
        const session = ws.getUserData().session;
        if (session !== null) this.onMessage(session, message, isBinary);
        else this.handshakes.hold(ws, message, isBinary);
      },
      close: (ws, code) => {
        const session = ws.getUserData().session;
        if (session === null) {
          this.handshakes.closed(ws);
          return;
        }
        this.ctx.logger.debug({ connection_id: session.connectionId, code, reason: session.closeReason }, 'connection closed');
        this.onClose(session);
      },
    });
    registerHttpApi(app, this.ctx);
    app.any('/*', (res) => {
      res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end('{"error":{"code":"NOT_FOUND","message":"Not found"}}');
    });
  }

  private listen(app: TemplatedApp): Promise<void> {
    const { host, port } = this.ctx.config;
    return new Promise((resolve, reject) => {
      app.listen(host, port, (socket) => {
        if (socket === false) {
          reject(new WseError('WSE_ERR_LISTEN', `cannot listen on ${host}:${port}`, { details: { host, port } }));
          return;
        }
        this.listenSocket = socket;
        resolve();
      });
    });
  }

  private startTimers(): void {
    const every = (ms: number, task: () => void): void => {
      const timer = setInterval(task, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.ctx.config.pingIntervalMs, () => this.heartbeat());
    every(RECOVERY_SWEEP_MS, () => this.ctx.store.sweep());
    this.ctx.backlog.start();
  }

  /** The token is verified: the session starts, or the socket gets §2's failure sequence. */
  private onReady(ws: SessionSocket, session: Session, auth: AuthResult): void {
    const { metrics } = this.ctx;
    if (!auth.ok) {
      // PROTOCOL.md §2: one error frame, then close 4401; no state is created.
      metrics.authFailures.inc({ reason: auth.reason });
      ws.send(errorFrame(auth.code, auth.message), false);
      session.end(CloseCode.authFailed, 'auth', 'Authentication failed');
      return;
    }
    this.ctx.sessions.add(session);
    metrics.counts.connectionsOpen++;
    metrics.connectionsTotal.inc();
    // §5: server_ready is the first frame, before any publication can reach the connection.
    session.sendText(serverReadyFrame({ connectionId: session.connectionId, userId: session.userId, now: isoNow() }));
    for (const early of ws.getUserData().early.splice(0)) this.onMessage(session, early.data, early.isBinary);
  }

  private onMessage(session: Session, message: ArrayBuffer, isBinary: boolean): void {
    const { metrics, config } = this.ctx;
    session.lastActivityMs = Date.now();
    if (session.closed) return;
    if (message.byteLength > config.limits.maxMessageSize) {
      metrics.inboundDropped.inc({ reason: 'too_large' });
      session.sendText(errorFrame('MESSAGE_TOO_LARGE', `Message exceeds ${config.limits.maxMessageSize} bytes`));
      session.end(CloseCode.tooLarge, 'too_large', 'Message too large');
      return;
    }
    metrics.counts.messagesReceived++;
    session.stats.received++;
    const inbound = decodeInbound(message, isBinary, session);
    if (inbound.kind === 'dropped') {
      metrics.inboundDropped.inc({ reason: inbound.reason });
      return;
    }
    if (inbound.kind !== 'message') return;
    try {
      handleClientMessage(this.ctx, session, inbound.msg);
    } catch (error) {
      // A handler bug must cost one message, never the process or other connections.
      metrics.inboundDropped.inc({ reason: 'handler_error' });
      this.ctx.logger.error({ err: error, connection_id: session.connectionId, t: inbound.msg.t }, 'message handler failed');
    }
  }

  private onClose(session: Session): void {
    session.closed = true;
    if (!this.ctx.sessions.delete(session)) return;
    const { metrics, index } = this.ctx;
    metrics.counts.connectionsOpen--;
    if (session.closeReason === 'slow_consumer') metrics.slowConsumerDrops.inc();
    for (const topic of session.topics) leavePresence(this.ctx, session, topic);
    index.removeSession(session);
    metrics.counts.subscriptions = index.subscriptions;
    metrics.counts.topics = index.topics;
    if (this.ctx.sessions.size === 0) this.whenEmpty?.();
  }

  /** PROTOCOL.md §6: ping every interval; idle past the timeout → Close without status, then drop. */
  private heartbeat(): void {
    const now = Date.now();
    const idleTimeout = this.ctx.config.idleTimeoutMs;
    const ping = pingFrame(isoNow());
    for (const session of this.ctx.sessions) {
      if (session.idleCloseSent) session.abort('idle');
      else if (now - session.lastActivityMs > idleTimeout) {
        session.idleCloseSent = true;
        session.end(undefined, 'idle');
      } else session.sendText(ping);
    }
  }

  /** Graceful drain: refuse new sockets, close every client with 4300, wait for them to go. */
  async drain(timeoutMs = this.ctx.config.drainTimeoutMs): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    // MESH.md §11: peers stop routing to this member and its topics are handed over first.
    this.ctx.member?.drain();
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    const allClosed = new Promise<void>((resolve) => {
      this.whenEmpty = resolve;
      if (this.ctx.sessions.size === 0) resolve();
    });
    this.handshakes.closeAll(CloseCode.drain, 'drain');
    this.ctx.fanout.flush();
    for (const session of this.ctx.sessions) session.end(CloseCode.drain, 'drain');
    await within(allClosed, timeoutMs);
    for (const session of this.ctx.sessions) session.abort('drain');
    // uWS reports a session closed when its Close frame is queued. Exiting before the peer's Close
    // reply arrives would answer it with a TCP reset, which can discard our Close frame (the
    // client then sees 1006, not 4300): linger briefly so the handshakes finish.
    await new Promise((resolve) => setTimeout(resolve, CLOSE_LINGER_MS));
    await this.ctx.member?.stop();
    this.stop();
  }

  /** Stops timers and the authenticator; the process can then exit. */
  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
    this.ctx.backlog.stop();
    this.authenticator.close();
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }
}

function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
