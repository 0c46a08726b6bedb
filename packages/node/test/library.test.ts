import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createNode } from '../src/index.js';
import { TestClient } from './client.js';
import { freePort, makeToken, TEST_SECRET } from './harness.js';

test('library mode: createNode() serves clients and publish() stamps like any entry point', async () => {
  const port = await freePort();
  const node = await createNode({ host: '127.0.0.1', port, metricsPort: await freePort(), jwtSecret: TEST_SECRET, logLevel: 'silent' });
  try {
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/wse`, { token: await makeToken() });
    await client.subscribe(['lib']);
    const first = await node.publish('lib', { hello: 'world' }, { type: 'greeting' });
    const second = await node.publish('lib', 2);
    assert.equal(first.offset, 0);
    assert.deepEqual(second, { topic: 'lib', epoch: first.epoch, offset: 1 });
    const got = await client.publications('lib', 2);
    assert.deepEqual(got.map((m) => [m['t'], m['o'], m['e']]), [['greeting', 0, first.epoch], ['message', 1, first.epoch]]);
    await assert.rejects(node.publish('lib', undefined), { code: 'WSE_ERR_INVALID_PUBLISH' });
    await assert.rejects(node.publish('bad\u0000topic', 1), { code: 'WSE_ERR_INVALID_PUBLISH' });
    const closing = client.closed;
    await node.close();
    assert.equal((await closing).code, 4300);
  } finally {
    await node.close();
  }
});

test('library mode: a bad option is a ConfigError naming the setting', async () => {
  await assert.rejects(createNode({ port: -1, jwtSecret: TEST_SECRET }), (error: Error & { code?: string }) => {
    assert.equal(error.code, 'WSE_ERR_CONFIG_INVALID');
    assert.match(error.message, /--port/);
    return true;
  });
});
