import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  errorFrame,
  pingFrame,
  pongFrame,
  rateLimitedFrame,
  rateLimitWarningFrame,
  serverReadyFrame,
} from '../src/protocol/control-frames.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = '2026-03-01T10:00:00.000Z';

describe('control frames (PROTOCOL.md §5, §6, §11, §12)', () => {
  it('server_ready has the original byte order of §5', () => {
    const frame = serverReadyFrame({ connectionId: 'conn-1', userId: 'alice', now: NOW });
    const id = (JSON.parse(frame) as { id: string }).id;
    assert.match(id, UUID_V7);
    const expected =
      `{"c":"WSE","id":"${id}","p":{"details":{"connection_id":"conn-1","features":{"batching":true,"circuit_breaker":true,"compression":true,"encryption":false,"priority_queue":true,"recovery":true},"server_time":"${NOW}","user_id":"alice","version":1},"message":"Connection established"},"seq":1,"t":"server_ready","ts":"${NOW}","v":1}`;
    assert.equal(frame, expected);
  });

  it('server_ready escapes ids and can announce recovery off', () => {
    const frame = serverReadyFrame({ connectionId: 'c', userId: 'a"b', now: NOW, recovery: false });
    const parsed = JSON.parse(frame) as { p: { details: { user_id: string; features: { recovery: boolean } } } };
    assert.equal(parsed.p.details.user_id, 'a"b');
    assert.equal(parsed.p.details.features.recovery, false);
  });

  it('ping is exactly §6 (no v) and starts with the sniffed prefix', () => {
    assert.equal(pingFrame(NOW), `{"c":"WSE","t":"ping","p":{"server_time":"${NOW}"}}`);
    assert.ok(pingFrame(NOW).slice(0, 25).includes('"t":"ping"'));
  });

  it('PONG begins {"c":"WSE","t":"PONG" and echoes the client timestamp', () => {
    const frame = pongFrame(1000, 1250);
    assert.equal(frame, '{"c":"WSE","t":"PONG","p":{"client_timestamp":1000,"server_timestamp":1250,"latency":250},"v":1}');
    assert.ok(frame.slice(0, 25).includes('"t":"PONG"'));
    assert.equal((JSON.parse(pongFrame(2000, 1500)) as { p: { latency: number } }).p.latency, 0);
    assert.equal((JSON.parse(pongFrame(Number.NaN, 5)) as { p: { client_timestamp: number } }).p.client_timestamp, 0);
  });

  it('error frames follow §11 with optional fields in order', () => {
    const plain = JSON.parse(errorFrame('INVALID_ACTION', 'bad')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(plain), ['c', 't', 'p', 'v']);
    const p = plain['p'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(p), ['code', 'message', 'timestamp']);
    assert.match(p['timestamp'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const full = errorFrame('SUBSCRIPTION_FAILED', 'no', { recoverable: true, retry_after: 2, details: { why: 'acl' }, topics: ['a'] });
    assert.match(full, /"recoverable":true,"retry_after":2\.0,"details":\{"why":"acl","topics":\["a"\]\},"topics":\["a"\]\},"v":1\}$/);
    assert.match(errorFrame('X', 'y', { retry_after: 0.25 }), /"retry_after":0\.25\}/);
  });

  it('rate_limit_warning is byte-exact for the §12 example and truncates', () => {
    assert.equal(
      rateLimitWarningFrame(100000, 20000),
      '{"c":"WSE","t":"rate_limit_warning","p":{"current_rate":80000,"limit":100000,"remaining":20000,"retry_after":1.0},"v":1}',
    );
    assert.match(rateLimitWarningFrame(100000, 19999.7), /"current_rate":80000,"limit":100000,"remaining":19999,/);
  });

  it('RATE_LIMITED is byte-exact §12', () => {
    assert.equal(
      rateLimitedFrame(),
      '{"c":"WSE","t":"error","p":{"code":"RATE_LIMITED","message":"Rate limit exceeded","retry_after":1.0},"v":1}',
    );
  });
});
