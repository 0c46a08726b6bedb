import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { getText, makeToken, metricValue, startNode, type NodeProcess } from './harness.js';

describe('session start (PROTOCOL.md §2, §5, §6)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('server_ready comes first, then client_hello gets server_hello', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken({ sub: 'alice' }), ready: false });
    const first = await client.next();
    assert.equal(first.binary, false);
    assert.equal(first.json?.['t'], 'server_ready');
    assert.equal(first.json?.['p']['details']['user_id'], 'alice');
    assert.equal(first.json?.['p']['details']['features']['recovery'], true);
    client.send({ c: 'WSE', t: 'client_hello', p: { client_version: '2.4.1', protocol_version: 1, features: {} } });
    const hello = await client.nextOfType('server_hello');
    assert.equal(hello.binary, false);
    assert.equal(hello.json?.['p']['connection_id'], first.json?.['p']['details']['connection_id']);
    assert.equal(hello.json?.['p']['ping_interval'], 25_000);
    assert.equal(hello.json?.['p']['limits']['max_inflight_publishes'], 1024);
    await client.close();
  });

  test('the bearer header authenticates like the cookie', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken({ sub: 'bob' }), via: 'bearer' });
    client.send({ t: 'ping', p: { client_timestamp: 1234 } });
    const pong = await client.nextOfType('PONG');
    assert.ok(pong.raw.toString().startsWith('{"c":"WSE","t":"PONG"'));
    assert.equal(pong.json?.['p']['client_timestamp'], 1234);
    await client.close();
  });

  test('a bad token gets the §2 error frame then close 4401, and is counted', async () => {
    const before = metricValue((await getText(node.metricsPort, '/metrics')).body, 'wse_auth_failures_total');
    const client = await TestClient.connect(node.url, { token: await makeToken({ secret: 'another-secret-that-is-long-enough-000' }), ready: false });
    const frame = await client.next();
    assert.equal(frame.json?.['t'], 'error');
    assert.equal(frame.json?.['p']['code'], 'AUTH_FAILED');
    assert.equal(frame.json?.['p']['message'], 'Authentication failed');
    const { code, reason } = await client.closed;
    assert.equal(code, 4401);
    assert.equal(reason, 'Authentication failed');
    const afterValue = metricValue((await getText(node.metricsPort, '/metrics')).body, 'wse_auth_failures_total');
    assert.equal(afterValue - (Number.isNaN(before) ? 0 : before), 1);
  });

  test('no token at all is AUTH_REQUIRED', async () => {
    const client = await TestClient.connect(node.url, { ready: false });
    const frame = await client.next();
    assert.equal(frame.json?.['p']['code'], 'AUTH_REQUIRED');
    assert.equal((await client.closed).code, 4401);
  });
});
