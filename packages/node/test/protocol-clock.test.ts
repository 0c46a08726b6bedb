import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isoNow, uuidv7 } from '../src/protocol/clock.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('clock (PROTOCOL.md §4)', () => {
  it('isoNow is RFC 3339 UTC with milliseconds and Z', () => {
    assert.match(isoNow(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('uuidv7 has version 7, variant 10 and the current millisecond', () => {
    const before = Date.now();
    const id = uuidv7();
    const after = Date.now();
    assert.match(id, UUID_V7);
    const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    assert.ok(ms >= before && ms <= after + 1, `timestamp ${ms} outside [${before}, ${after}]`);
  });

  it('uuidv7 strictly increases within a millisecond and across many', () => {
    let previous = uuidv7();
    const seen = new Set<string>([previous]);
    for (let i = 0; i < 20_000; i++) {
      const id = uuidv7();
      assert.ok(id > previous, `${id} <= ${previous}`);
      seen.add(id);
      previous = id;
    }
    assert.equal(seen.size, 20_001);
  });
});
