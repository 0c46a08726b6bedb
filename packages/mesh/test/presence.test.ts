import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PresenceEvent } from '../src/index.js';
import { startMember, stopAll, waitFor, waitLinked } from './harness.js';

test('presence: updates travel to PRESENCE peers, PresenceFull follows a handshake, link loss is reported', async () => {
  const a = await startMember({ presence: true });
  a.presenceSnapshot = () => ({ lobby: { alice: { data: { status: 'here' }, updated_at: 111 } } });
  const b = await startMember({ presence: true, peers: [a.address] });
  const events: PresenceEvent[] = [];
  b.onPresence = (e) => events.push(e);
  try {
    await waitLinked([a, b]);
    await waitFor(() => events.some((e) => e.kind === 'full'), 2_000, 'PresenceFull');
    assert.deepEqual(events.find((e) => e.kind === 'full'), {
      kind: 'full', origin: a.instanceId, topic: 'lobby', user: 'alice', data: { status: 'here' }, updatedAt: 111,
    });
    a.presenceLocal('lobby', 'bob', 'join', { n: 1 }, 222);
    a.presenceLocal('lobby', 'bob', 'leave', null, 333);
    await waitFor(() => events.filter((e) => e.kind === 'join' || e.kind === 'leave').length === 2, 2_000, 'join+leave');
    assert.deepEqual(events.find((e) => e.kind === 'join'), { kind: 'join', origin: a.instanceId, topic: 'lobby', user: 'bob', data: { n: 1 }, updatedAt: 222 });
    assert.deepEqual(events.find((e) => e.kind === 'leave'), { kind: 'leave', origin: a.instanceId, topic: 'lobby', user: 'bob', data: null, updatedAt: 333 });
    await a.stop();
    await waitFor(() => events.some((e) => e.kind === 'origin-lost'), 2_000, 'origin-lost');
    assert.deepEqual(events.at(-1), { kind: 'origin-lost', origin: a.instanceId });
  } finally {
    await stopAll([a, b]);
  }
});
