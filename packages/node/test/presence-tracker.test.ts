import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PresenceTracker } from '../src/presence/tracker.js';

const topic = 'lobby';
const online = { status: 'online' };

function tracker(): PresenceTracker {
  return new PresenceTracker(0, 4096);
}

describe('presence tracker (MESH.md §10 merge)', () => {
  test('a user present through two origins leaves with the second leave, whichever arrives first', () => {
    const t = tracker();
    assert.equal(t.remoteJoin('a', topic, 'erin', online, 100), 'join');
    assert.equal(t.remoteJoin('b', topic, 'erin', online, 110), null);
    // b's leave (t=130) overtakes a's leave (t=120) on the wire: links are independent.
    assert.equal(t.remoteLeave('b', topic, 'erin', 130), null);
    assert.equal(t.remoteLeave('a', topic, 'erin', 120), 'leave');
    assert.deepEqual(t.query(topic), {});
    assert.equal(t.members, 0);
  });

  test('a leave older than the same origin’s last write is ignored', () => {
    const t = tracker();
    t.remoteJoin('a', topic, 'erin', online, 200);
    assert.equal(t.remoteLeave('a', topic, 'erin', 150), null);
    assert.deepEqual(Object.keys(t.query(topic)), ['erin']);
  });

  test('a local connection keeps the user present through every remote leave', () => {
    const t = tracker();
    assert.equal(t.join(topic, 'erin', 'c1', online, 100), 'join');
    assert.equal(t.remoteJoin('a', topic, 'erin', online, 105), null);
    assert.equal(t.remoteLeave('a', topic, 'erin', 110), null);
    assert.equal(t.query(topic)['erin']?.connections, 1);
    assert.equal(t.leave(topic, 'erin', 'c1'), 'leave');
  });

  test('data follows the newest write across origins; an older update is ignored', () => {
    const t = tracker();
    t.remoteJoin('a', topic, 'erin', online, 100);
    assert.equal(t.remoteUpdate(topic, 'erin', { status: 'away' }, 120), 'update');
    assert.equal(t.remoteJoin('b', topic, 'erin', { status: 'busy' }, 110), null);
    assert.deepEqual(t.dataOf(topic, 'erin'), { status: 'away' });
  });

  test('a lost origin takes only its own users with it', () => {
    const t = tracker();
    t.remoteJoin('a', topic, 'erin', online, 100);
    t.remoteJoin('a', topic, 'frank', online, 100);
    t.remoteJoin('b', topic, 'frank', online, 100);
    assert.deepEqual(
      t.originLost('a').map((left) => left.userId),
      ['erin'],
    );
    assert.deepEqual(Object.keys(t.query(topic)), ['frank']);
  });

  test('the member cap refuses new users, local or remote, and counts none', () => {
    const t = new PresenceTracker(1, 4096);
    t.join(topic, 'erin', 'c1', online, 100);
    assert.equal(t.join(topic, 'frank', 'c2', online, 100), 'full');
    assert.equal(t.remoteJoin('a', topic, 'gina', online, 100), null);
    assert.equal(t.members, 1);
  });
});
