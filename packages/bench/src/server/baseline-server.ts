import uWS from 'uWebSockets.js';
import type { RunningServer } from './frame-writer-server.js';

/**
 * The transport baseline: bare uWebSockets.js speaking just enough of PROTOCOL.md for the same load
 * client and publisher. A publish is stamped and fanned out with one `app.publish`; its ack is held
 * back while subscribers' backlog is high, so the publisher is paced and no subscriber is skipped.
 */
export interface BaselineOptions {
  host: string;
  port: number;
  /** Backlog budget (bytes) over all subscribers; each gets its share, within 16 KiB…1 MiB. */
  backlogBudgetBytes?: number;
}

interface Connection {
  /** Index in the subscriber list; -1 when not subscribed. */
  index: number;
  overHighWater: boolean;
  closed: boolean;
}

type Socket = uWS.WebSocket<Connection>;

const EPOCH = '00000001';
const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Never reached while acks pace the publisher; beyond it uWS would close, not skip, the socket. */
const MAX_BACKPRESSURE_BYTES = 16 * 1024 * 1024;
const MAX_HELD_ACKS = 65_536;
const SWEEP_INTERVAL_MS = 1;
const SWEEP_SLICE = 256;
const SERVER_READY = JSON.stringify({
  c: 'WSE',
  t: 'server_ready',
  p: { message: 'baseline', details: { features: { recovery: true }, version: 1 } },
  v: 1,
});
const SERVER_HELLO = '{"c":"WSE","t":"server_hello","p":{"protocol_version":1,"limits":{"max_inflight_publishes":1024}},"v":1}';

export class BaselineServer {
  private readonly app = uWS.App();
  private readonly sockets = new Set<Socket>();
  private readonly subscribers: Socket[] = [];
  private readonly offsets = new Map<string, number>();
  private readonly heldAcks: Array<[Socket, Connection, string]> = [];
  private overCount = 0;
  private sweepCursor = 0;
  private sweepTimer: NodeJS.Timeout | null = null;
  private listenSocket: uWS.us_listen_socket | null = null;
  private readonly budget: number;
  /** Counters for /health. */
  private published = 0;
  private badMessages = 0;
  private refusedPublishes = 0;

  constructor(options: Pick<BaselineOptions, 'backlogBudgetBytes'> = {}) {
    this.budget = options.backlogBudgetBytes ?? 64 * 1024 * 1024;
    this.app.ws<Connection>('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: MAX_PAYLOAD_BYTES,
      maxBackpressure: MAX_BACKPRESSURE_BYTES,
      // Typed as a number in these typings; the addon reads it as a flag.
      closeOnBackpressureLimit: 1,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      open: (ws) => this.onOpen(ws),
      message: (ws, message) => this.onMessage(ws, message),
      drain: (ws) => this.onDrain(ws),
      close: (ws) => this.onClose(ws),
    });
    this.app.get('/health', (res) => {
      res.writeHeader('content-type', 'application/json').end(JSON.stringify(this.health()));
    });
  }

  listen(host: string, port: number): Promise<RunningServer> {
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (listenSocket) => {
        if (listenSocket === false) {
          reject(new Error(`baseline server cannot listen on ${host}:${port}`));
          return;
        }
        this.listenSocket = listenSocket;
        this.sweepTimer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
        resolve({ port: uWS.us_socket_local_port(listenSocket), close: async () => this.close() });
      });
    });
  }

  health(): Record<string, number> {
    return {
      connections: this.sockets.size,
      subscribers: this.subscribers.length,
      published: this.published,
      held_acks: this.heldAcks.length,
      backlogged_subscribers: this.overCount,
      bad_messages: this.badMessages,
      refused_publishes: this.refusedPublishes,
    };
  }

  private close(): void {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const ws of [...this.sockets]) ws.end(1001, 'server stopping');
  }

  private onOpen(ws: Socket): void {
    const connection = ws.getUserData();
    connection.index = -1;
    connection.overHighWater = false;
    connection.closed = false;
    this.sockets.add(ws);
    ws.send(SERVER_READY, false);
  }

  private onMessage(ws: Socket, message: ArrayBuffer): void {
    let parsed: { t?: unknown; p?: Record<string, unknown>; cid?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(message).toString('utf8'));
    } catch {
      this.badMessages++;
      return;
    }
    const payload = parsed.p ?? {};
    switch (parsed.t) {
      case 'publish':
        this.onPublish(ws, payload, parsed.cid);
        break;
      case 'subscription_update':
        this.onSubscriptionUpdate(ws, payload);
        break;
      case 'client_hello':
        ws.send(SERVER_HELLO, false);
        break;
      case 'ping':
        ws.send(`{"c":"WSE","t":"PONG","p":{"server_timestamp":${Date.now()}},"v":1}`, false);
        break;
      default:
      // Anything else (PONG, sync_request, …) needs no answer for the benchmark.
    }
  }

  private onPublish(ws: Socket, payload: Record<string, unknown>, cid: unknown): void {
    const topic = payload['topic'];
    if (typeof topic !== 'string' || payload['data'] === undefined) {
      this.badMessages++;
      return;
    }
    if (this.overCount > 0 && this.heldAcks.length >= MAX_HELD_ACKS) {
      this.refusedPublishes++;
      this.reply(ws, cid, `"error":{"code":"PUBLISH_BACKPRESSURE","message":"backlog full"}`);
      return;
    }
    const offset = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, offset + 1);
    const type = typeof payload['type'] === 'string' ? payload['type'] : 'message';
    // PROTOCOL.md §8/§19: stamp first, encode once, one app.publish for every subscriber.
    this.app.publish(
      topic,
      `{"tp":${JSON.stringify(topic)},"e":"${EPOCH}","o":${offset},"c":"U","t":${JSON.stringify(type)},"p":${JSON.stringify(payload['data'])},"v":1}`,
      false,
    );
    this.published++;
    const ack = `"topic":${JSON.stringify(topic)},"epoch":"${EPOCH}","offset":${offset}`;
    if (this.overCount === 0 && this.heldAcks.length === 0) this.reply(ws, cid, ack);
    else if (typeof cid === 'string') this.heldAcks.push([ws, ws.getUserData(), ackFrame(cid, ack)]);
  }

  private reply(ws: Socket, cid: unknown, body: string): void {
    if (typeof cid !== 'string') return;
    ws.send(ackFrame(cid, body), true);
  }

  private onSubscriptionUpdate(ws: Socket, payload: Record<string, unknown>): void {
    const topics = Array.isArray(payload['topics']) ? payload['topics'].filter((t) => typeof t === 'string') : [];
    const subscribe = payload['action'] === 'subscribe';
    for (const topic of topics) {
      if (subscribe) ws.subscribe(topic);
      else ws.unsubscribe(topic);
    }
    const connection = ws.getUserData();
    if (subscribe && connection.index < 0) {
      connection.index = this.subscribers.length;
      this.subscribers.push(ws);
    }
    const key = subscribe ? 'success_topics' : 'unsubscribed_topics';
    ws.send(JSON.stringify({ c: 'WSE', t: 'subscription_update', p: { action: payload['action'], success: true, [key]: topics, failed_topics: [] }, v: 1 }), true);
  }

  private onDrain(ws: Socket): void {
    this.check(ws);
    this.releaseAcksIfClear();
  }

  private onClose(ws: Socket): void {
    const connection = ws.getUserData();
    connection.closed = true;
    this.sockets.delete(ws);
    if (connection.overHighWater) this.overCount--;
    if (connection.index >= 0) {
      const last = this.subscribers.pop()!;
      if (last !== ws) {
        this.subscribers[connection.index] = last;
        last.getUserData().index = connection.index;
      }
    }
    this.releaseAcksIfClear();
  }

  /** Samples a slice of subscribers' backlog each tick: cheap at any subscriber count. */
  private sweep(): void {
    const n = this.subscribers.length;
    for (let i = 0; i < Math.min(SWEEP_SLICE, n); i++) {
      if (this.sweepCursor >= n) this.sweepCursor = 0;
      this.check(this.subscribers[this.sweepCursor++]!);
    }
    this.releaseAcksIfClear();
  }

  private check(ws: Socket): void {
    const connection = ws.getUserData();
    if (connection.closed) return;
    const highWater = Math.min(1024 * 1024, Math.max(16 * 1024, this.budget / Math.max(1, this.subscribers.length)));
    const backlog = ws.getBufferedAmount();
    if (!connection.overHighWater && backlog > highWater) {
      connection.overHighWater = true;
      this.overCount++;
    } else if (connection.overHighWater && backlog < highWater / 4) {
      connection.overHighWater = false;
      this.overCount--;
    }
  }

  private releaseAcksIfClear(): void {
    if (this.overCount > 0 || this.heldAcks.length === 0) return;
    for (const [ws, connection, ack] of this.heldAcks) if (!connection.closed) ws.send(ack, true);
    this.heldAcks.length = 0;
  }
}

/** PROTOCOL.md §19: the publisher's per-connection acknowledgement. */
function ackFrame(cid: string, body: string): string {
  return `{"c":"WSE","t":"publish_ack","p":{"cid":${JSON.stringify(cid)},${body}},"v":1}`;
}

export async function startBaselineServer(options: BaselineOptions): Promise<RunningServer> {
  return new BaselineServer(options).listen(options.host, options.port);
}
