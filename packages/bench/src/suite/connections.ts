import type { BenchTarget } from '../fanout/target.js';
import type { UpgradeRequest } from '../ws/handshake.js';
import { Session, type SessionListener } from './session.js';

export interface OpenOptions {
  /** Sent as `Cookie: access_token=…` (PROTOCOL.md §2). */
  token: string;
  /** Connections in flight at once; the next starts when one is ready or failed. */
  concurrency: number;
  timeoutMs: number;
  /** Source addresses used in turn (127.0.0.x): each has its own ephemeral ports. */
  localAddresses?: string[];
  listener?: SessionListener;
}

export interface OpenResult {
  sessions: Session[];
  ready: number;
  failed: number;
  firstError: string;
  /** Wall time from the first connect to the last `server_ready` or failure, µs. */
  elapsedUs: number;
}

/**
 * Opens `count` sessions spread round-robin over the target's nodes, at most `concurrency` in
 * flight; resolves when each is ready or failed, or at the timeout (the rest count as failed).
 */
export function openSessions(target: BenchTarget, count: number, options: OpenOptions): Promise<OpenResult> {
  const requests: UpgradeRequest[] = target.nodes.map(({ endpoint }) => ({
    host: endpoint.host, port: endpoint.port, path: target.path, headers: { Cookie: `access_token=${options.token}` },
  }));
  const sessions: Session[] = [];
  const started = Date.now();
  let settled = 0;
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      const ready = sessions.filter((s) => s.isReady).length;
      const firstError = sessions.find((s) => s.closed)?.error ?? (sessions.length < count || ready < sessions.length ? 'timed out' : '');
      resolve({ sessions, ready, failed: count - ready, firstError, elapsedUs: (Date.now() - started) * 1000 });
    };
    const timer = setTimeout(finish, options.timeoutMs);
    const outer = options.listener ?? {};
    const listener: SessionListener = {
      ...outer,
      onReady: (s) => { outer.onReady?.(s); next(); },
      onClosed: (s) => { outer.onClosed?.(s); if (s.readyUs === 0) next(); },
    };
    const openOne = (): void => {
      const i = sessions.length;
      const local = options.localAddresses?.[i % options.localAddresses.length];
      const request = requests[i % requests.length]!;
      sessions.push(new Session(local === undefined ? request : { ...request, localAddress: local }, listener));
    };
    function next(): void {
      if (++settled === count) return finish();
      if (sessions.length < count) openOne();
    }
    if (count === 0) return finish();
    for (let i = 0; i < Math.min(count, options.concurrency); i++) openOne();
  });
}

/** Closes every session and waits (bounded) until their sockets are gone. */
export async function closeSessions(sessions: Session[], timeoutMs = 5000): Promise<void> {
  for (const s of sessions) s.close();
  const deadline = Date.now() + timeoutMs;
  while (sessions.some((s) => !s.closed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}
