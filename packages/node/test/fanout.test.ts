import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TemplatedApp } from 'uWebSockets.js';
import { WorkerMetrics } from '../src/metrics/worker-metrics.js';
import { SubscriptionIndex } from '../src/topics/subscriptions.js';
import { BacklogMonitor } from '../src/worker/backlog.js';
import { Fanout, MAX_PENDING_PUBLICATIONS } from '../src/worker/fanout.js';
import type { Session } from '../src/worker/session.js';

/** Stands in for uWS's app: records what was published, with a fixed subscriber count per topic. */
class App {
  published: string[] = [];
  publish(_topic: string, frame: string): boolean {
    this.published.push(frame);
    return true;
  }
  numSubscribers(): number {
    return 3;
  }
}

function fanout(): { app: App; fanout: Fanout; metrics: WorkerMetrics } {
  const app = new App();
  const metrics = new WorkerMetrics({ node: 'test', worker: '0' }, () => ({ topics: 0, bytes: 0, budget: 0, evictions: {} }));
  const uws = app as unknown as TemplatedApp;
  const backlog = new BacklogMonitor(new Set<Session>(), metrics, { highWaterBytes: 1 << 30, maxOutboundBytes: 1 << 24, intervalMs: 100 });
  return { app, fanout: new Fanout(uws, new SubscriptionIndex(uws, () => {}), metrics, backlog), metrics };
}

describe('fan-out at the end of the loop turn', () => {
  test('publications wait for the turn to end, then go out in order and are counted per subscriber', async () => {
    const { app, fanout: f, metrics } = fanout();
    for (let i = 0; i < 5; i++) f.deliver('t', String(i));
    assert.deepEqual(app.published, []);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(app.published, ['0', '1', '2', '3', '4']);
    assert.equal(metrics.counts.messagesSent, 15);
  });

  test('a full queue is sent at once and counted in wse_turn_queue_full_total', () => {
    const { app, fanout: f, metrics } = fanout();
    for (let i = 0; i < MAX_PENDING_PUBLICATIONS; i++) f.deliver('t', String(i));
    assert.equal(app.published.length, MAX_PENDING_PUBLICATIONS);
    assert.equal(metrics.counts.turnQueueFull.publications, 1);
  });
});
