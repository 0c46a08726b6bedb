import WebSocket from 'ws';

/**
 * A subscriber that behaves like the TS and PY clients (PROTOCOL.md §8 "Client algorithm"): it
 * keeps a position per topic, drops duplicates, asks for recovery on a gap, re-baselines on a new
 * epoch, and after a lost connection reconnects and re-subscribes with `recover: true`.
 */
export class RecoveringSubscriber {
  /** Payloads delivered to the application, in order. */
  readonly delivered: unknown[] = [];
  /** Epoch of each delivered payload. */
  readonly epochs: string[] = [];
  /** Offset of each delivered payload. */
  readonly offsets: number[] = [];
  readonly closeCodes: number[] = [];
  /** Connections lost after the first delivery (mid-stream), as [close code, deliveries so far]. */
  readonly lostMidStream: Array<[number, number]> = [];
  readonly replies: Array<Record<string, any>> = [];
  position: { epoch: string; offset: number } | null = null;
  private ws: WebSocket | null = null;
  /** The first frames after a reconnect, for failure messages. */
  readonly afterReconnect: string[] = [];
  private stopped = false;
  private recovering = false;
  private waiters: Array<{ done: () => boolean; resolve: () => void }> = [];

  constructor(
    private readonly url: () => string,
    private readonly token: string,
    readonly topic: string,
  ) {}

  async start(): Promise<void> {
    await this.connect();
    await this.until(() => this.replies.length > 0, 10_000);
  }

  /** Resolves once `done()` holds; checked after every frame. */
  until(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`subscriber on ${this.topic}: condition not met within ${timeoutMs} ms (delivered ${this.delivered.length}, position ${JSON.stringify(this.position)})`)), timeoutMs);
      this.waiters.push({ done, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close();
  }

  private connect(): Promise<void> {
    const ws = new WebSocket(this.url(), { headers: { cookie: `access_token=${this.token}` }, perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.onFrame(data));
    ws.on('close', (code) => {
      this.closeCodes.push(code);
      if (this.delivered.length > 0 && !this.stopped) this.lostMidStream.push([code, this.delivered.length]);
      if (!this.stopped) setTimeout(() => void this.connect().catch(() => undefined), 50);
    });
    ws.on('error', () => undefined);
    return new Promise((resolve) => ws.once('open', () => resolve()));
  }

  private onFrame(data: Buffer): void {
    if (this.lostMidStream.length > 0 && this.afterReconnect.length < 12) this.afterReconnect.push(data.subarray(0, 160).toString());
    let message: Record<string, any>;
    try {
      message = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (message['t'] === 'server_ready') this.subscribe();
    else if (message['tp'] === this.topic) this.onPublication(message);
    else if (message['t'] === 'subscription_update' && message['p']?.['action'] === 'subscribe') this.onReply(message['p']);
    for (const waiter of this.waiters.filter((w) => w.done())) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private subscribe(): void {
    const p: Record<string, unknown> = { action: 'subscribe', topics: [this.topic] };
    if (this.position !== null) Object.assign(p, { recover: true, recovery: { [this.topic]: this.position } });
    this.ws?.send(JSON.stringify({ c: 'WSE', t: 'subscription_update', p }));
  }

  private onPublication(message: Record<string, any>): void {
    const epoch: string = message['e'];
    const offset: number = message['o'];
    const position = this.position;
    if (position === null || position.epoch !== epoch || offset === position.offset + 1) {
      this.position = { epoch, offset };
      this.delivered.push(message['p']);
      this.offsets.push(offset);
      this.epochs.push(epoch);
      return;
    }
    if (offset <= position.offset) return;
    // A gap: drop this copy and ask for the missing range, once until the reply comes.
    if (this.recovering) return;
    this.recovering = true;
    this.subscribe();
  }

  private onReply(p: Record<string, any>): void {
    this.replies.push(p);
    this.recovering = false;
    const entry = p['recovery']?.[this.topic];
    if (entry && entry.epoch !== null) this.position = { epoch: entry.epoch, offset: entry.offset };
  }
}
