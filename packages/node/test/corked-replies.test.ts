import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkerMetrics } from '../src/metrics/worker-metrics.js';
import { CorkedReplies, MAX_QUEUED_REPLIES } from '../src/worker/corked-replies.js';
import type { Session } from '../src/worker/session.js';

/** Stands in for a session's uWS socket: records which replies ran inside which cork. */
class Socket {
  corks: string[][] = [];
  private current: string[] | null = null;
  cork(run: () => void): void {
    this.current = [];
    run();
    this.corks.push(this.current);
    this.current = null;
  }
  send(text: string): void {
    assert.ok(this.current !== null, `"${text}" was sent outside a cork`);
    this.current.push(text);
  }
}

function metrics(): WorkerMetrics {
  return new WorkerMetrics({ node: 'test', worker: '0' }, () => ({ topics: 0, bytes: 0, budget: 0, evictions: {} }));
}

function session(): { session: Session; socket: Socket } {
  const socket = new Socket();
  return { session: { ws: socket, closed: false } as unknown as Session, socket };
}

describe('corked replies (acks completed outside a message handler)', () => {
  test("one session's replies of a loop turn leave under one cork, in order", async () => {
    const replies = new CorkedReplies(metrics());
    const a = session();
    const b = session();
    for (let i = 0; i < 16; i++) replies.queue(a.session, () => a.socket.send(`a${i}`));
    replies.queue(b.session, () => b.socket.send('b0'));
    assert.equal(a.socket.corks.length, 0, 'nothing is sent before the turn ends');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(a.socket.corks, [Array.from({ length: 16 }, (_, i) => `a${i}`)]);
    assert.deepEqual(b.socket.corks, [['b0']]);
  });

  test('a closed session gets nothing; flush() sends at once and the scheduled pass finds nothing left', async () => {
    const replies = new CorkedReplies(metrics());
    const open = session();
    const closed = session();
    (closed.session as { closed: boolean }).closed = true;
    replies.queue(open.session, () => open.socket.send('x'));
    replies.queue(closed.session, () => closed.socket.send('y'));
    replies.flush();
    assert.deepEqual(open.socket.corks, [['x']]);
    assert.deepEqual(closed.socket.corks, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(open.socket.corks.length, 1);
  });

  test('past MAX_QUEUED_REPLIES the queue is sent without waiting for the turn to end, and counted', () => {
    const counted = metrics();
    const replies = new CorkedReplies(counted);
    const a = session();
    for (let i = 0; i < MAX_QUEUED_REPLIES; i++) replies.queue(a.session, () => a.socket.send(String(i)));
    assert.equal(a.socket.corks.length, 1);
    assert.equal(a.socket.corks[0]!.length, MAX_QUEUED_REPLIES);
    assert.equal(counted.counts.turnQueueFull.replies, 1);
  });
});
