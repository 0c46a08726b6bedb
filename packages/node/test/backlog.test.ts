import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkerMetrics } from '../src/metrics/worker-metrics.js';
import { BacklogMonitor, SESSIONS_PER_TICK } from '../src/worker/backlog.js';
import { CloseCode, type Session } from '../src/worker/session.js';

const MAX_OUTBOUND = 16 * 1024 * 1024;

/** Stands in for a connection: its unwritten bytes, and whether it was visited or closed. */
class Connection {
  visits = 0;
  closedWith: number | undefined;
  constructor(public bytes: number) {}
  backlog(): number {
    this.visits++;
    return this.bytes;
  }
  end(code: number): void {
    this.closedWith = code;
  }
}

function monitor(connections: Connection[], highWaterBytes: number): { backlog: BacklogMonitor; metrics: WorkerMetrics } {
  const metrics = new WorkerMetrics({ node: 'test', worker: '0' }, () => ({ topics: 0, bytes: 0, budget: 0, evictions: {} }));
  const sessions = new Set(connections as unknown as Session[]);
  const backlog = new BacklogMonitor(sessions, metrics, { highWaterBytes, maxOutboundBytes: MAX_OUTBOUND, intervalMs: 100 });
  return { backlog, metrics };
}

function connections(count: number, bytes: number): Connection[] {
  return Array.from({ length: count }, () => new Connection(bytes));
}

/** Lets `count` loop turns pass (each runs the immediates queued in the one before). */
async function loopTurns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('fan-out backlog sampling (DESIGN.md flow control)', () => {
  test('a timer tick visits at most SESSIONS_PER_TICK connections; the total lands when the pass completes', () => {
    const all = connections(2 * SESSIONS_PER_TICK + 100, 1);
    const { backlog, metrics } = monitor(all, Number.MAX_SAFE_INTEGER);
    backlog.sampleSlice();
    assert.equal(all.filter((c) => c.visits === 1).length, SESSIONS_PER_TICK);
    assert.equal(metrics.counts.fanoutBacklogBytes, 0, 'no total from a partial pass');
    backlog.sampleSlice();
    backlog.sampleSlice();
    assert.ok(all.every((c) => c.visits === 1), 'every connection once per pass');
    assert.equal(metrics.counts.fanoutBacklogBytes, all.length);
  });

  test('a partial pass over the mark paces at once; pacing ends only after a whole pass below half', () => {
    const all = connections(2 * SESSIONS_PER_TICK + 1, 1);
    const { backlog } = monitor(all, SESSIONS_PER_TICK / 2);
    backlog.sampleSlice();
    assert.equal(backlog.isPaced, true);
    for (const c of all) c.bytes = 0;
    backlog.sampleSlice();
    backlog.sampleSlice(); // the first pass ends; its total still holds the slice read before the drain
    assert.equal(backlog.isPaced, true);
    backlog.sampleSlice();
    backlog.sampleSlice();
    assert.equal(backlog.isPaced, true, 'a partial pass cannot prove the backlog drained');
    backlog.sampleSlice(); // a whole pass at 0
    assert.equal(backlog.isPaced, false);
  });

  test('while publishers are paced, a pass goes on over the next loop turns instead of one slice per tick', async () => {
    const all = connections(3 * SESSIONS_PER_TICK, 1);
    const { backlog } = monitor(all, SESSIONS_PER_TICK / 2);
    backlog.sampleSlice(); // a tick: its slice alone is over the mark
    assert.equal(backlog.isPaced, true);
    for (const c of all) c.bytes = 0;
    // Two more slices, then the turn that finds the end: without ticks, which would take 100 ms each.
    await loopTurns(3);
    assert.ok(all.every((c) => c.visits === 1));
    assert.equal(backlog.isPaced, true, 'the pass ended; its total still holds the slice read before the drain');
    backlog.sampleSlice(); // the next tick starts a pass that finds nothing
    await loopTurns(3);
    assert.ok(all.every((c) => c.visits === 2));
    assert.equal(backlog.isPaced, false);
    backlog.stop();
  });

  test('a slow consumer is closed with 4008 by the slice that reaches it; a full pass reaches all', () => {
    const all = connections(SESSIONS_PER_TICK + 10, 0);
    const slow = all[SESSIONS_PER_TICK + 5]!;
    slow.bytes = MAX_OUTBOUND;
    const { backlog } = monitor(all, Number.MAX_SAFE_INTEGER);
    backlog.sampleSlice();
    assert.equal(slow.closedWith, undefined);
    backlog.sampleSlice();
    assert.equal(slow.closedWith, CloseCode.slowConsumer);

    const other = all[0]!;
    other.bytes = MAX_OUTBOUND;
    backlog.sample();
    assert.equal(other.closedWith, CloseCode.slowConsumer);
  });
});
