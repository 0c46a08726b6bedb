import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, makeToken, startNode, type NodeProcess } from './harness.js';

describe('presence (PROTOCOL.md §9)', () => {
  let node: NodeProcess;
  before(async () => {
    node = await startNode();
  });
  after(async () => {
    await node.stop();
  });

  test('a user joins with the first connection, updates data, and leaves with the last', async () => {
    const watcher = await TestClient.connect(node.url, { token: await makeToken({ sub: 'watcher' }) });
    await watcher.subscribe(['lobby']);
    const token = await makeToken({ sub: 'erin' });
    const first = await TestClient.connect(node.url, { token });
    await first.subscribe(['lobby'], { presence: { status: 'online' } });
    const join = (await watcher.nextOfType('presence_join')).json!;
    assert.deepEqual(join['p'], { user_id: 'erin', data: { status: 'online' }, topic: 'lobby' });
    assert.equal((await first.nextOfType('presence_join')).json!['p']['user_id'], 'erin', 'the joiner sees its own join');

    const second = await TestClient.connect(node.url, { token });
    await second.subscribe(['lobby'], { presence: { status: 'away' } });
    assert.deepEqual((await watcher.nextOfType('presence_update')).json!['p']['data'], { status: 'away' });
    const members = await api(node.port, '/api/presence?topic=lobby');
    assert.deepEqual(Object.keys(members.json.members), ['erin']);
    assert.equal(members.json.members.erin.connections, 2);

    await first.close();
    // A publication after the close is a marker: a leave would have reached the watcher before it.
    await api(node.port, '/api/publish', { topic: 'lobby', data: 'marker' });
    await watcher.publications('lobby', 1);
    assert.equal(watcher.frames.filter((f) => f.json?.['t'] === 'presence_leave').length, 0, 'still present via the second connection');
    await second.close();
    assert.equal((await watcher.nextOfType('presence_leave')).json!['p']['user_id'], 'erin');
    assert.deepEqual((await api(node.port, '/api/presence?topic=lobby')).json.members, {});
    await watcher.close();
  });
});
