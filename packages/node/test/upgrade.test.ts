import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { exportJWK, SignJWT } from 'jose';
import { TestClient } from './client.js';
import { getText, metricValue, startNode } from './harness.js';

/** A key server whose answers wait until the test releases them. */
async function heldKeyServer(): Promise<{ url: string; release: () => void; sign: (sub: string) => Promise<string>; close: () => Promise<void> }> {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const body = JSON.stringify({ keys: [{ ...(await exportJWK(ec.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
  const held: ServerResponse[] = [];
  let released = false;
  const answer = (res: ServerResponse): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  const server = createServer((_req, res) => (released ? answer(res) : held.push(res)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    release: () => {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    sign: (sub) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(ec.privateKey),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the WebSocket upgrade and the token check (PROTOCOL.md §1–§2)', () => {
  // The 101 must not wait for the token check: the upgrade happens inside uWS's request callback.
  test('messages sent before server_ready wait for the token check and are answered after it', async () => {
    const keys = await heldKeyServer();
    const node = await startNode(['--jwt-algorithm', 'ES256', '--jwt-jwks-url', keys.url]);
    try {
      const client = await TestClient.connect(node.url, { token: await keys.sign('early'), ready: false });
      client.send({ t: 'health_check', p: {} });
      keys.release();
      const first = await client.next();
      assert.equal(first.json?.['t'], 'server_ready');
      assert.equal(first.json?.['p']?.['details']?.['user_id'], 'early');
      await client.nextOfType('health_check_response');
      await client.close();
    } finally {
      await node.stop();
      await keys.close();
    }
  });

  test('a client that floods before server_ready is closed without a status, and counted', async () => {
    const keys = await heldKeyServer();
    const node = await startNode(['--jwt-algorithm', 'ES256', '--jwt-jwks-url', keys.url]);
    try {
      const client = await TestClient.connect(node.url, { token: await keys.sign('eager'), ready: false });
      // 64 KiB is the byte bound: two 40 KiB messages pass it while the key server holds the check.
      for (let i = 0; i < 2; i++) client.send({ t: 'health_check', p: { pad: 'x'.repeat(40_000) } });
      const { code } = await client.closed;
      assert.equal(code, 1005);
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_inbound_dropped_total', { reason: 'before_ready' }), 1);
      assert.equal(metricValue(metrics, 'wse_connections_rejected_total', { reason: 'early_messages' }), 1);
    } finally {
      keys.release();
      await node.stop();
      await keys.close();
    }
  });

  test('a token check slower than --upgrade-timeout closes the socket without a status, counted', async () => {
    const keys = await heldKeyServer();
    const node = await startNode(['--jwt-algorithm', 'ES256', '--jwt-jwks-url', keys.url, '--upgrade-timeout', '0.3']);
    try {
      const client = await TestClient.connect(node.url, { token: await keys.sign('slow'), ready: false });
      const { code } = await client.closed;
      assert.equal(code, 1005);
      assert.equal(client.frames.length, 0, 'no server_ready');
      const metrics = (await getText(node.metricsPort, '/metrics')).body;
      assert.equal(metricValue(metrics, 'wse_connections_rejected_total', { reason: 'upgrade_timeout' }), 1);
    } finally {
      await node.stop();
      await keys.close();
    }
  });
});
