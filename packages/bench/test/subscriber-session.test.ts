import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import uWS from 'uWebSockets.js';
import { SubscriberPool } from '../src/load/subscriber-pool.js';
import { nowMicros } from '../src/sys/clock.js';

/** A server that refuses every connection the way PROTOCOL.md §2 says a WSE server does. */
describe('subscriber session start', () => {
  let listenSocket: uWS.us_listen_socket;
  let port = 0;
  let cookies: string[] = [];

  before(async () => {
    const app = uWS.App().ws('/*', {
      upgrade: (res, req, context) => {
        cookies.push(req.getHeader('cookie'));
        res.upgrade({}, req.getHeader('sec-websocket-key'), '', '', context);
      },
      open: (ws) => {
        ws.send('{"c":"WSE","t":"error","p":{"code":"AUTH_FAILED","message":"Authentication failed"},"v":1}', false);
        ws.end(4401, 'Authentication failed');
      },
    });
    await new Promise<void>((resolve) =>
      app.listen('127.0.0.1', 0, (socket) => {
        listenSocket = socket as uWS.us_listen_socket;
        port = uWS.us_socket_local_port(listenSocket);
        resolve();
      }),
    );
  });

  after(() => uWS.us_listen_socket_close(listenSocket));

  it('sends the cookie and reports the server error of a refused connection', async () => {
    cookies = [];
    const pool = new SubscriberPool();
    await pool.connect({
      request: { host: '127.0.0.1', port, path: '/wse', headers: { Cookie: 'access_token=abc' } },
      topics: ['t'],
      offset: 0,
      count: 3,
      batch: 2,
      batchTimeoutMs: 5000,
    });
    const report = pool.report();
    assert.equal(report.connectFailures, 3);
    assert.equal(report.live, 0);
    assert.equal(report.firstError, 'AUTH_FAILED: Authentication failed');
    assert.deepEqual(cookies, ['access_token=abc', 'access_token=abc', 'access_token=abc']);
    await pool.closeAll(1000);
  });
});

describe('subscriber pool window CPU', () => {
  it('a report taken before the window-end timer has run still measures the window', async () => {
    const pool = new SubscriberPool();
    const startUs = nowMicros() + 1_000;
    const endUs = startUs + 20_000;
    pool.setWindow(startUs, endUs);
    await delay(5); // the start edge has run
    // A busy loop past the end, as a load process deep in one poll phase: the end timer cannot run.
    const busyUntil = Math.max(endUs, nowMicros() + 15_000) + 1_000;
    while (nowMicros() < busyUntil);
    const report = pool.report();
    // Measured from when the start edge ran, which may be late, to the report.
    assert.ok(report.cpuWallMicros > 10_000, `window wall ${report.cpuWallMicros} µs`);
    assert.ok(report.cpuMicros > 0, 'the busy window used CPU');
  });

  it("a settle before the window's end edge (the coordinator's clock ahead of this one) ends the window", async () => {
    const pool = new SubscriberPool();
    const startUs = nowMicros() + 1_000;
    pool.setWindow(startUs, startUs + 60_000_000);
    await delay(5); // the start edge has run
    const busyUntil = nowMicros() + 15_000;
    while (nowMicros() < busyUntil);
    await pool.settle(-1, 1000, 1000); // no subscribers: settled at once
    const report = pool.report();
    assert.ok(report.cpuWallMicros > 10_000 && report.cpuWallMicros < 10_000_000, `window wall ${report.cpuWallMicros} µs`);
    assert.ok(report.cpuMicros > 0, 'the busy window used CPU');
  });
});
