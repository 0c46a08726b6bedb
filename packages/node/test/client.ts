import { inflateSync } from 'node:zlib';
import { unpack } from 'msgpackr';
import WebSocket from 'ws';

/** One frame as the test client saw it, decoded like a real client would. */
export interface Frame {
  binary: boolean;
  raw: Buffer;
  /** The JSON object inside (after `C:`/`M:` unwrapping), or null when it is not JSON. */
  json: Record<string, any> | null;
}

export interface ConnectOptions {
  token?: string;
  /** How the token travels: cookie (BENCH, browsers) or bearer header (PY's fallback). */
  via?: 'cookie' | 'bearer';
  query?: string;
  /** Wait for server_ready before resolving (default true). */
  ready?: boolean;
}

/**
 * A WebSocket test client on the `ws` library. Frames are queued as they arrive; `next()` takes
 * the first queued or future frame that matches, so tests wait on events, never on sleeps.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<{ match: (frame: Frame) => boolean; resolve: (frame: Frame) => void }> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.push({ binary: isBinary, raw: data, json: decode(data, isBinary) }));
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static async connect(url: string, options: ConnectOptions = {}): Promise<TestClient> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) {
      if ((options.via ?? 'cookie') === 'cookie') headers['cookie'] = `access_token=${options.token}`;
      else headers['authorization'] = `Bearer ${options.token}`;
    }
    const ws = new WebSocket(options.query === undefined ? url : `${url}?${options.query}`, { headers, perMessageDeflate: false });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    if (options.ready !== false) await client.next((frame) => frame.json?.['t'] === 'server_ready');
    return client;
  }

  /** Connects and subscribes to `topics`. */
  static async connectSubscribed(url: string, token: string, topics: string[]): Promise<TestClient> {
    const client = await TestClient.connect(url, { token });
    await client.subscribe(topics);
    return client;
  }

  /** Takes the first frame (queued or future) that matches; rejects after the timeout. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const index = this.frames.findIndex(match);
    if (index >= 0) return Promise.resolve(this.frames.splice(index, 1)[0] as Frame);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (frame: Frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; queued: ${this.frames.map((f) => f.raw.toString().slice(0, 120)).join(' | ')}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next frame whose `t` is the given type. */
  nextOfType(t: string, timeoutMs?: number): Promise<Frame> {
    return this.next((frame) => frame.json?.['t'] === t, timeoutMs);
  }

  /** Collects `count` stamped publications of a topic, in arrival order. */
  async publications(topic: string, count: number, timeoutMs = 10_000): Promise<Record<string, any>[]> {
    const result: Record<string, any>[] = [];
    const deadline = Date.now() + timeoutMs;
    while (result.length < count) {
      const frame = await this.next((f) => f.json?.['tp'] === topic, Math.max(1, deadline - Date.now()));
      result.push(frame.json as Record<string, any>);
    }
    return result;
  }

  send(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: Buffer | string, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  async subscribe(topics: string[], extra: Record<string, unknown> = {}): Promise<Record<string, any>> {
    this.send({ c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', topics, ...extra } });
    const reply = await this.next((f) => f.json?.['t'] === 'subscription_update' && f.json['p']?.['action'] === 'subscribe');
    return reply.json as Record<string, any>;
  }

  /** Stops reading the socket, as a client that falls behind would; the server's writes pile up. */
  pauseReading(): void {
    socketOf(this.ws).pause();
  }

  resumeReading(): void {
    socketOf(this.ws).resume();
  }

  close(code = 1000): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code);
    return this.closed;
  }

  private push(frame: Frame): void {
    const index = this.waiters.findIndex((waiter) => waiter.match(frame));
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      waiter?.resolve(frame);
    } else {
      this.frames.push(frame);
    }
  }
}

/** The `ws` library keeps its net.Socket in a private field. */
function socketOf(ws: WebSocket): { pause(): void; resume(): void } {
  return (ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
}

/** Decodes a frame as the clients do: `C:` zlib, `M:` msgpack, else JSON text. */
export function decode(data: Buffer, isBinary: boolean): Record<string, any> | null {
  try {
    if (isBinary && data[0] === 0x43 && data[1] === 0x3a) return JSON.parse(inflateSync(data.subarray(2)).toString('utf8'));
    if (isBinary && data[0] === 0x4d && data[1] === 0x3a) return unpack(data.subarray(2)) as Record<string, any>;
    if (isBinary && data[0] === 0x45 && data[1] === 0x3a) return null;
    return JSON.parse(data.toString('utf8'));
  } catch {
    return null;
  }
}
