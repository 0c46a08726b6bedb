import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { TestClient } from './client.js';
import { freePort, runWse, WSE_BIN } from './harness.js';

test('--print-config shows the effective configuration with secrets redacted', async () => {
  const { code, stdout } = await runWse(['start', '--print-config', '--port', '7001', '--api-key', 'api-key-visible-nowhere-123'], {
    WSE_JWT_SECRET: 'env-secret-that-is-long-enough-000000',
    WSE_RECOVERY_TTL: '60',
  });
  assert.equal(code, 0);
  const config = JSON.parse(stdout);
  assert.equal(config.port, 7001);
  assert.equal(config.metricsPort, 8001);
  assert.equal(config.recovery.ttlMs, 60_000);
  assert.equal(config.auth.secret, '<redacted>');
  assert.equal(config.apiKey, '<redacted>');
  assert.ok(!stdout.includes('env-secret'));
});

test('wse start --dev prints the ws URL, the metrics URL and a dev token that works', async () => {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [WSE_BIN, 'start', '--dev', '--host', '127.0.0.1', '--port', String(port), '--metrics-port', String(metricsPort), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const lines = createInterface({ input: child.stdout });
    let token = '';
    const seen: string[] = [];
    for await (const line of lines) {
      seen.push(line);
      const match = /Dev token:\s+(\S+)/.exec(line);
      if (match) {
        token = match[1]!;
        break;
      }
    }
    const banner = seen.join('\n');
    assert.ok(banner.includes(`ws://127.0.0.1:${port}/wse`), banner);
    assert.ok(banner.includes(`http://127.0.0.1:${metricsPort}/metrics`), banner);
    const client = await TestClient.connect(`ws://127.0.0.1:${port}/wse`, { token });
    assert.equal((await client.subscribe(['dev']))['p']['success'], true);
    await client.close();
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
