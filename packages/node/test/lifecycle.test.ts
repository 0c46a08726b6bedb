import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, test } from 'node:test';
import { TestClient } from './client.js';
import { getText, makeToken, metricValue, startNode } from './harness.js';

/** Completes a WebSocket upgrade on a raw socket, then never reads or answers anything. */
async function halfOpenClient(port: number, token: string): Promise<import('node:net').Socket> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    `GET /wse HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: access_token=${token}\r\n\r\n`,
  );
  return socket;
}

describe('connection lifecycle (PROTOCOL.md §1, §6, §15)', () => {
  test('server pings every interval; an idle client gets a Close without status (1005)', async () => {
    const node = await startNode(['--ping-interval', '0.3', '--idle-timeout', '0.8']);
    try {
      const client = await TestClient.connect(node.url, { token: await makeToken() });
      const ping = await client.nextOfType('ping', 3000);
      assert.ok(ping.raw.toString().startsWith('{"c":"WSE","t":"ping","p":{"server_time":"'));
      const { code } = await client.closed;
      assert.equal(code, 1005);
    } finally {
      await node.stop();
    }
  });

  test('a half-open client that never answers the Close is dropped at the next tick', async () => {
    const node = await startNode(['--ping-interval', '0.3', '--idle-timeout', '0.8']);
    try {
      const socket = await halfOpenClient(node.port, await makeToken());
      const started = Date.now();
      socket.resume();
      await once(socket, 'close');
      assert.ok(Date.now() - started < 5000, 'dropped within a few ticks');
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_connections'), 0);
    } finally {
      await node.stop();
    }
  });

  test('over --max-connections a socket is refused before the upgrade, and counted', async () => {
    const node = await startNode(['--max-connections', '2']);
    try {
      const token = await makeToken();
      const clients = [await TestClient.connect(node.url, { token }), await TestClient.connect(node.url, { token })];
      await assert.rejects(TestClient.connect(node.url, { token }));
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_connections_rejected_total', { reason: 'capacity' }), 1);
      await clients[0]!.close();
      // A freed slot is usable again.
      const again = await TestClient.connect(node.url, { token });
      await Promise.all([again.close(), clients[1]!.close()]);
    } finally {
      await node.stop();
    }
  });

  test('SIGTERM drains: clients get 4300, health says draining, the process exits 0', async () => {
    const node = await startNode();
    const clients = await Promise.all([1, 2].map(async () => TestClient.connect(node.url, { token: await makeToken() })));
    const code = await node.stop("SIGTERM");
    for (const client of clients) assert.equal((await client.closed).code, 4300);
    assert.equal(code, 0);
    assert.ok(node.logs.some((line) => line.includes('"draining"')));
  });
});
