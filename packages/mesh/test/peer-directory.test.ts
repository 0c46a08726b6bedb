import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerDirectory } from '../src/membership/peer-directory.js';

const SETTINGS = { backoffInitialMs: 60_000, backoffFactor: 1.5, backoffMaxMs: 60_000, threshold: 10, openMs: 60_000, probes: 3 };

function directory(linked: Set<string>): { dir: PeerDirectory; dialed: string[]; settledCalls: () => number } {
  const dialed: string[] = [];
  let calls = 0;
  const dir = new PeerDirectory(
    { dial: (a) => dialed.push(a), isLinked: (id) => linked.has(id), onSettled: () => calls++ },
    SETTINGS,
    '127.0.0.1:1',
  );
  return { dir, dialed, settledCalls: () => calls };
}

test('directory: settled once every known address has been linked or has failed once', () => {
  const { dir, settledCalls } = directory(new Set());
  try {
    assert.equal(dir.settled, true, 'nothing known');
    dir.learn('127.0.0.1:2', 'static');
    dir.learn('127.0.0.1:3', 'gossip');
    assert.equal(dir.settled, false);
    dir.dialSucceeded('127.0.0.1:2', 'id-2');
    assert.equal(dir.settled, false);
    dir.dialFailed('127.0.0.1:3');
    assert.equal(dir.settled, true);
    assert.equal(settledCalls(), 1);
    // A failed address stays tried while it is redialled; a newly learned one unsettles again.
    dir.dialFailed('127.0.0.1:3');
    dir.learn('127.0.0.1:4', 'gossip');
    assert.equal(dir.settled, false);
    dir.linkedVia('id-4', '127.0.0.1:4');
    assert.equal(dir.settled, true);
    assert.equal(settledCalls(), 2);
  } finally {
    dir.close();
  }
});

test('directory: a lost tiebreak waits for the dial-back unless it already opened', () => {
  const linked = new Set<string>();
  const { dir } = directory(linked);
  try {
    dir.learn('127.0.0.1:5', 'gossip');
    dir.dialRefused('127.0.0.1:5', 'id-5', 30_000);
    assert.equal(dir.settled, false, 'the dial-back is still to come');
    dir.linkedVia('id-5', '127.0.0.1:5');
    assert.equal(dir.settled, true);

    // The dial-back link opened while our own dial still waited for the answer.
    dir.learn('127.0.0.1:6', 'gossip');
    linked.add('id-6');
    dir.dialRefused('127.0.0.1:6', 'id-6', 30_000);
    assert.equal(dir.settled, true);
    assert.equal(dir.status().find((e) => e.address === '127.0.0.1:6')!.state, 'linked');

    // An original member never dials back: given up, so tried.
    dir.learn('127.0.0.1:7', 'gossip');
    dir.dialRefused('127.0.0.1:7', 'id-7', null);
    assert.equal(dir.settled, true);
  } finally {
    dir.close();
  }
});

test('directory: an address that reached this member itself is forgotten and never relearned', () => {
  const { dir } = directory(new Set());
  try {
    dir.learn('127.0.0.2:1', 'static');
    assert.equal(dir.settled, false);
    dir.dialReachedSelf('127.0.0.2:1');
    assert.equal(dir.has('127.0.0.2:1'), false);
    assert.equal(dir.settled, true, 'reached, so tried');
    assert.equal(dir.learn('127.0.0.2:1', 'gossip'), false);
    assert.deepEqual(dir.unreachedAddresses(), []);
  } finally {
    dir.close();
  }
});

test('directory: gossip passes on only the addresses not reached yet', () => {
  const { dir } = directory(new Set());
  try {
    dir.learn('127.0.0.1:2', 'static');
    dir.learn('127.0.0.1:3', 'static');
    dir.dialSucceeded('127.0.0.1:2', 'id-2');
    assert.deepEqual(dir.unreachedAddresses(), ['127.0.0.1:3']);
  } finally {
    dir.close();
  }
});
