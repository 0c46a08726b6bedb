import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { measureClientCeiling } from '../src/load/client-ceiling.js';

describe('client ceiling', () => {
  it('counts frames from the frame-writer server in a load process', async () => {
    const result = await measureClientCeiling({
      connections: 4,
      seconds: 0.5,
      warmupSeconds: 0.2,
      messageBytes: 140,
      processes: 1,
      batch: 4,
    });
    assert.equal(result.connections, 4);
    assert.ok(result.deliveriesPerSec > 10_000, `${result.deliveriesPerSec}/s`);
    assert.ok(Math.abs(result.avgMessageBytes - 140) < 0.01, `${result.avgMessageBytes} B`);
    assert.ok(result.clientCpuPercent > 0);
  });
});
