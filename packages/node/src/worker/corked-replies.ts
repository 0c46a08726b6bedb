import type { WorkerMetrics } from '../metrics/worker-metrics.js';
import type { Session } from './session.js';

/** Replies held for the end of the loop turn before they are sent anyway. */
export const MAX_QUEUED_REPLIES = 4096;

/**
 * Replies that complete outside a uWS handler — a publish acknowledged when the topic's owner on
 * another member answered, or one that waited while publishers were paced — are not corked: each
 * `send` would be its own write, so a publisher with 16 publications in flight cost 16 writes per
 * turn instead of one. Queued here, one session's replies of a turn leave under one cork. The queue
 * holds at most one reply per publication in flight (bounded by each session's publish window) and
 * is sent at once past MAX_QUEUED_REPLIES (counted in `wse_turn_queue_full_total`).
 */
export class CorkedReplies {
  private pending = new Map<Session, Array<() => void>>();
  private queued = 0;
  private flushScheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly metrics: WorkerMetrics) {}

  queue(session: Session, reply: () => void): void {
    const replies = this.pending.get(session);
    if (replies === undefined) this.pending.set(session, [reply]);
    else replies.push(reply);
    if (++this.queued >= MAX_QUEUED_REPLIES) {
      this.metrics.counts.turnQueueFull.replies++;
      this.flush();
    }
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flushNow);
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.queued === 0) return;
    const pending = this.pending;
    this.pending = new Map();
    this.queued = 0;
    for (const [session, replies] of pending) {
      const ws = session.ws;
      if (session.closed || ws === null) continue;
      ws.cork(() => {
        for (const reply of replies) reply();
      });
    }
  }
}
