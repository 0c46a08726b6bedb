import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { createAuthenticator } from '../src/auth/index.js';
import { loadConfig } from '../src/config/load.js';

const SECRET = 'token-test-secret-that-is-32-bytes';
const TOKEN_MODULE = new URL('../src/cli/token.js', import.meta.url).href;
const PACKAGE_DIR = fileURLToPath(new URL('../../', import.meta.url));
// The command mounted on yargs the way `wse` mounts it.
const SCRIPT = `
import yargs from 'yargs';
const { tokenCommand } = await import(${JSON.stringify(TOKEN_MODULE)});
await yargs(process.argv.slice(1)).command(tokenCommand).strict().parseAsync();
`;

const dir = mkdtempSync(join(tmpdir(), 'wse-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, '--', 'token', ...args], {
      cwd: PACKAGE_DIR,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function tokenOf(result: Run): string {
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'only the token on stdout');
  return result.stdout.trim();
}

describe('wse token', () => {
  it('signs with --jwt-secret: sub, ttl and claims', async () => {
    const token = tokenOf(await run(['--sub', 'alice', '--ttl', '120', '--claims', '{"wse_publish":{"allow":["*"]}}', '--jwt-secret', SECRET]));
    const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET), { algorithms: ['HS256'] });
    assert.equal(protectedHeader.alg, 'HS256');
    assert.equal(payload.sub, 'alice');
    assert.deepEqual(payload.wse_publish, { allow: ['*'] });
    assert.ok(Math.abs((payload.exp ?? 0) - (Date.now() / 1000 + 120)) < 10);
  });

  it('defaults to one hour', async () => {
    const token = tokenOf(await run(['--sub', 'alice'], { WSE_JWT_SECRET: SECRET }));
    const { payload } = await jwtVerify(token, new TextEncoder().encode(SECRET));
    assert.ok(Math.abs((payload.exp ?? 0) - (Date.now() / 1000 + 3600)) < 10);
  });

  it('takes secret, issuer, audience and key id from --config, and the server accepts the token', async () => {
    const file = join(dir, 'wse.json');
    writeFileSync(file, JSON.stringify({ jwtSecret: SECRET, jwtIssuer: 'wse', jwtAudience: 'app', jwtKeyId: 'k1' }));
    const token = tokenOf(await run(['--sub', 'bob', '--config', file], { WSE_DEV: '1' }));
    assert.equal(decodeProtectedHeader(token).kid, 'k1');
    const cfg = await loadConfig({ config: file }, {});
    const auth = await createAuthenticator(cfg.auth);
    const result = await auth.authenticate(`access_token=${token}`, '');
    assert.ok(result.ok && result.identity.userId === 'bob', JSON.stringify(result));
  });

  it('bad --claims JSON: one line naming --claims, exit 2', async () => {
    for (const claims of ['{not json', '[1,2]', '"text"']) {
      const result = await run(['--sub', 'alice', '--claims', claims, '--jwt-secret', SECRET]);
      assert.equal(result.code, 2, claims);
      assert.equal(result.stdout, '');
      assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /--claims/);
    }
  });

  it('no secret anywhere: exit 2 naming --jwt-secret', async () => {
    const result = await run(['--sub', 'alice']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^wse token: invalid setting --jwt-secret=.*WSE_JWT_SECRET/);
  });

  it('a bad setting elsewhere stops it the same way', async () => {
    const result = await run(['--sub', 'alice', '--ttl', '0'], { WSE_JWT_SECRET: SECRET });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--ttl/);
  });
});
