import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TestClient } from './client.js';
import { api, getText, makeToken, metricValue, runWse, startNode, type NodeProcess } from './harness.js';

/** A msgpack map nested `depth` levels deep: {a:{a:{…}}}. */
function msgpackBomb(depth: number): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < depth; i++) bytes.push(0x81, 0xa1, 0x61);
  bytes.push(0xc0);
  return Buffer.concat([Buffer.from('M:'), Buffer.from(bytes)]);
}

describe('bad input gets an error or a close code, and nothing else breaks', () => {
  let node: NodeProcess;
  let bystander: TestClient;
  before(async () => {
    node = await startNode(['--max-message-size', '4096']);
    bystander = await TestClient.connect(node.url, { token: await makeToken({ sub: 'bystander' }) });
    await bystander.subscribe(['steady']);
  });
  after(async () => {
    await bystander.close();
    await node.stop();
  });

  /** The bystander still gets a fresh publication, gap-free. */
  async function bystanderStillServed(): Promise<void> {
    const { json } = await api(node.port, '/api/publish', { topic: 'steady', data: 'still here' });
    const [message] = await bystander.publications('steady', 1);
    assert.equal(message!['o'], json.offset);
  }

  async function dropped(reason: string): Promise<number> {
    return metricValue((await getText(node.metricsPort, '/metrics')).body, 'wse_inbound_dropped_total', { reason });
  }

  test('malformed JSON and unknown types are ignored and counted; the connection stays', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.sendRaw('{"t":"subscription_update", nope', false);
    client.send({ t: 'no_such_type', p: {} });
    client.sendRaw('[1,2,3]', false);
    client.send({ t: 'ping', p: { timestamp: 9 } });
    assert.equal((await client.nextOfType('PONG')).json!['p']['client_timestamp'], 9);
    assert.equal(client.frames.length, 0, 'no reply to unparseable input (§11)');
    assert.ok((await dropped('bad_json')) >= 1);
    await client.close();
    await bystanderStillServed();
  });

  test('an oversized frame gets MESSAGE_TOO_LARGE and close 1009', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.send({ t: 'trade_update', p: { pad: 'x'.repeat(5000) } });
    assert.equal((await client.nextOfType('error')).json!['p']['code'], 'MESSAGE_TOO_LARGE');
    assert.equal((await client.closed).code, 1009);
    await bystanderStillServed();
  });

  test('a msgpack bomb is refused before decoding; 64 levels still pass', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.sendRaw(msgpackBomb(1000));
    client.sendRaw(msgpackBomb(63));
    client.send({ t: 'ping', p: { timestamp: 1 } });
    await client.nextOfType('PONG');
    assert.ok((await dropped('msgpack_depth')) >= 1);
    assert.equal(await dropped('msgpack_invalid'), Number.NaN);
    await client.close();
    await bystanderStillServed();
  });

  test('invalid UTF-8 in a text frame closes that connection only', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.sendRaw(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), false);
    const { code } = await client.closed;
    // uWS validates text frames before any handler runs and drops the socket (RFC 6455 would say 1007).
    assert.equal(code, 1006);
    await bystanderStillServed();
  });

  test('invalid UTF-8 inside a binary JSON frame is dropped as bad_utf8', async () => {
    const client = await TestClient.connect(node.url, { token: await makeToken() });
    client.sendRaw(Buffer.concat([Buffer.from('C:'), (await import('node:zlib')).deflateSync(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]))]));
    client.send({ t: 'ping', p: { timestamp: 2 } });
    await client.nextOfType('PONG');
    assert.ok((await dropped('bad_utf8')) >= 1);
    await client.close();
  });

  test('a bad API request gets a 4xx with a coded error', async () => {
    assert.equal((await api(node.port, '/api/publish', { topic: 'x', data: 1 }, 'wrong-key-wrong-key')).status, 401);
    const bad = await api(node.port, '/api/publish', { topic: '', data: 1 });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'INVALID_PUBLISH');
    const tooMany = await api(node.port, '/api/publish', { items: Array.from({ length: 1001 }, () => ({ topic: 't', data: 1 })) });
    assert.equal(tooMany.status, 400);
    await bystanderStillServed();
  });
});

describe('bad configuration stops start-up with one line naming the setting', () => {
  const cases: Array<[string[], string]> = [
    [['--port', '70000'], '--port'],
    [['--recovery-buffer-size', 'lots'], '--recovery-buffer-size'],
    [['--jwt-secret', 'short'], '--jwt-secret'],
    [['--ping-interval', '30', '--idle-timeout', '20'], '--idle-timeout'],
  ];
  for (const [args, setting] of cases) {
    test(`${args.join(' ')}`, async () => {
      const withSecret = args.includes('--jwt-secret') ? args : ['--jwt-secret', 'a-long-enough-secret-for-hs256-000000', ...args];
      const { code, stderr, stdout } = await runWse(['start', ...withSecret]);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      const lines = stderr.trim().split('\n');
      assert.equal(lines.length, 1, stderr);
      assert.ok(lines[0]!.includes(setting), lines[0]);
    });
  }

  test('no key at all tells the user what to pass', async () => {
    const { code, stderr } = await runWse(['start'], { WSE_JWT_SECRET: '' });
    assert.equal(code, 2);
    assert.match(stderr, /--jwt-secret/);
    assert.match(stderr, /--no-auth|--dev/);
  });
});
