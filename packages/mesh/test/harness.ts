/** Shared test helpers: members on 127.0.0.1 with short timings, bounded waits, raw frames. */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { MeshMember, type MeshMemberOptions, type MeshTuning } from '../src/index.js';
import { FrameDecoder, FrameView } from '../src/frame/decoder.js';
import { encodeFrame } from '../src/frame/encoder.js';
import { encodeHello, type Hello } from '../src/frame/payloads.js';
import { GrowableSink } from '../src/frame/sink.js';

export const FAST: Partial<MeshTuning> = {
  pingIntervalMs: 100,
  deadAfterMs: 600,
  helloTimeoutMs: 1_000,
  connectTimeoutMs: 1_000,
  backoffInitialMs: 50,
  backoffMaxMs: 500,
  tiebreakHoldMs: 500,
  claimSettleMs: 2_000,
  claimTimeoutMs: 300,
  resyncIntervalMs: 60_000,
};

export function newMember(extra: Partial<MeshMemberOptions> = {}): MeshMember {
  return new MeshMember({
    nodeId: extra.nodeId ?? 'test-node',
    workerIndex: 0,
    workerCount: 1,
    listen: { host: '127.0.0.1', port: 0 },
    recovery: true,
    ...extra,
    tuning: { ...FAST, ...extra.tuning },
  });
}

export async function startMember(extra: Partial<MeshMemberOptions> = {}): Promise<MeshMember> {
  const m = newMember(extra);
  await m.start();
  return m;
}

/** Polls `cond` until true or `ms` passed (used only where no event exists). */
export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Resolves once `cond` holds: checked now and after every membership change of `members` (a link
 * opened or closed, a peer drained). Earlier `onMembersChanged` handlers keep running.
 */
export function whenMembers(members: MeshMember[], cond: () => boolean, ms: number, what: string): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const previous = members.map((m) => m.onMembersChanged);
    const restore = (): void => members.forEach((m, i) => (m.onMembersChanged = previous[i]!));
    const timer = setTimeout(() => {
      restore();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    members.forEach((m, i) => {
      m.onMembersChanged = () => {
        previous[i]?.();
        if (!cond()) return;
        clearTimeout(timer);
        restore();
        resolve();
      };
    });
  });
}

export function connectedPeers(m: MeshMember): string[] {
  return m.members().filter((r) => r.connected).map((r) => r.instance_id);
}

export async function waitLinked(members: MeshMember[], ms = 5_000): Promise<void> {
  await waitFor(
    () => members.every((m) => members.every((o) => o === m || connectedPeers(m).includes(o.instanceId))),
    ms,
    'full mesh',
  );
}

export async function stopAll(members: MeshMember[]): Promise<void> {
  await Promise.all(members.map((m) => m.stop()));
}

export function frame(type: number, flags: number, topic: Buffer | null, payload: Buffer | null): Buffer {
  const sink = new GrowableSink();
  encodeFrame(sink, type, flags, topic, payload);
  return sink.take();
}

export function helloFrame(h: Hello): Buffer {
  return frame(0x04, 0, null, encodeHello(h));
}

/** A raw TCP client that collects decoded frames (type, flags, topic, payload). */
export class RawPeer {
  readonly frames: { type: number; flags: number; topic: string; payload: Buffer }[] = [];
  closed = false;
  readonly socket: net.Socket;
  private readonly decoder: FrameDecoder;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    const view = new FrameView();
    this.decoder = new FrameDecoder({
      onRecord: (buf, start, end) => {
        if (view.parse(buf, start, end)) {
          this.frames.push({
            type: view.type,
            flags: view.flags,
            topic: buf.toString('utf8', view.topicStart, view.topicStart + view.topicLen),
            payload: view.payloadCopy(),
          });
        }
        return true;
      },
    });
    socket.on('data', (c: Buffer) => this.decoder.push(c));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => (this.closed = true));
  }

  static connect(address: string): Promise<RawPeer> {
    const [host, port] = address.split(':');
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: host!, port: Number(port) }, () => resolve(new RawPeer(s)));
      s.once('error', reject);
    });
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  closedPromise(): Promise<void> {
    return this.closed ? Promise.resolve() : new Promise((r) => this.socket.once('close', () => r()));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function body(c: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ c, ...extra }));
}

/** A port that was free a moment ago on 127.0.0.1 (for members that must know each other up front). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A topic name (prefix + n) whose owner is `owner` in `owner`'s view. */
export function topicOwnedBy(owner: MeshMember, prefix: string): string {
  for (let i = 0; i < 10_000; i++) if (owner.ownerOf(prefix + i) === owner.instanceId) return prefix + i;
  throw new Error('no topic found');
}

export interface Delivery {
  topic: string;
  stamped: string;
  epoch: number;
  offset: number;
}

/** A publish the child makes right after its start, before any link is up. */
export interface StartPublish {
  topic: string;
  body: string;
}

type ChildEvent = { id?: number; event?: string } & Record<string, unknown>;

/** A member in a child process (test/fixtures/member-proc.ts), optionally under a command prefix. */
export class ChildMember {
  address = '';
  instanceId = '';
  readonly deliveries: Delivery[] = [];
  /** Open links, as of the child's last membership change. */
  peers = 0;
  /** The answer to a StartPublish, once it came. */
  startPublished: { stamp?: { epoch: number; offset: number }; error?: string } | null = null;
  exited = false;
  private nextId = 1;
  private readonly waiting = new Map<number, (m: { result?: unknown; error?: string }) => void>();
  private readonly watchers = new Set<() => void>();

  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m: ChildEvent) => {
      if (m.event === 'deliver') this.deliveries.push(m as unknown as Delivery);
      else if (m.event === 'members') this.peers = m['peers'] as number;
      else if (m.event === 'start-published') this.startPublished = m as NonNullable<ChildMember['startPublished']>;
      else if (m.id !== undefined) this.waiting.get(m.id)?.(m as { result?: unknown; error?: string });
      for (const w of [...this.watchers]) w();
    });
    proc.on('exit', () => (this.exited = true));
  }

  /** Resolves once `cond` holds: checked now and after every message from the child. */
  until(cond: () => boolean, ms: number, what: string): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!cond()) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      this.watchers.add(check);
    });
  }

  static async spawn(options: Partial<MeshMemberOptions>, prefix: string[] = [], startPublish: StartPublish | null = null): Promise<ChildMember> {
    const script = fileURLToPath(new URL('./fixtures/member-proc.js', import.meta.url));
    const full = {
      nodeId: 'child',
      workerIndex: 0,
      workerCount: 1,
      listen: { host: '127.0.0.1', port: 0 },
      recovery: true,
      ...options,
      tuning: { ...FAST, ...options.tuning },
    };
    const argv = [script, JSON.stringify(full)];
    if (startPublish !== null) argv.push(JSON.stringify(startPublish));
    const proc =
      prefix.length === 0
        ? spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
        : spawn(prefix[0]!, [...prefix.slice(1), process.execPath, ...argv], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child = new ChildMember(proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child member did not start')), 10_000);
      proc.on('message', (m: { event?: string; address?: string; instanceId?: string }) => {
        if (m.event !== 'ready') return;
        clearTimeout(timer);
        child.address = m.address!;
        child.instanceId = m.instanceId!;
        resolve();
      });
      proc.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
    });
    return child;
  }

  call<T>(msg: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child call ${String(msg['cmd'])} timed out`)), 10_000);
      this.waiting.set(id, (m) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        if (m.error !== undefined) reject(new Error(m.error));
        else resolve(m.result as T);
      });
      this.proc.send({ ...msg, id });
    });
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill(signal);
    });
  }
}
