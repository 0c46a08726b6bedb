import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublicationScanner } from '../src/load/publication-scanner.js';
import { PublishFrameWriter, writeDigits } from '../src/publish/publish-frame-writer.js';

function scan(scanner: PublicationScanner, text: string): [boolean, number, number, number] {
  const buf = Buffer.from(`??${text}??`);
  const found = scanner.scan(buf, 2, buf.length - 2);
  return [found, scanner.offset, scanner.seq, scanner.ts];
}

/** A publication as a WSE server writes it (PROTOCOL.md §8, §19), id and ts included. */
function wsePublication(o: number, s: number, ts: number): string {
  return `{"tp":"chat","e":"0000abcd","o":${o},"c":"U","t":"bench","id":"019c0000-0000-7000-8000-000000000000","ts":"2026-03-01T10:00:00.000Z","p":{"s":${s},"ts":${ts},"pad":"xx"},"v":1}`;
}

describe('PublicationScanner', () => {
  it('reads offset, sequence and publish time of a stamped publication', () => {
    assert.deepEqual(scan(new PublicationScanner(), wsePublication(42, 7, 1700000000123456)), [true, 42, 7, 1700000000123456]);
  });

  it('keeps reading correctly while the numbers change length', () => {
    const scanner = new PublicationScanner();
    for (const [o, s] of [[9, 9], [10, 10], [99999, 5], [100000, 123456789], [3, 2]] as const) {
      assert.deepEqual(scan(scanner, wsePublication(o, s, 1000 + s)), [true, o, s, 1000 + s]);
    }
  });

  it('finds the fields when the message shape changes between messages', () => {
    const scanner = new PublicationScanner();
    scan(scanner, wsePublication(1, 1, 5));
    const other = '{"tp":"a-much-longer-topic-name","e":"00000001","o":8,"c":"U","t":"x","p":{"ts":77,"s":3},"v":1}';
    assert.deepEqual(scan(scanner, other), [true, 8, 3, 77]);
  });

  it('reports messages without an o stamp as not publications', () => {
    const scanner = new PublicationScanner();
    assert.equal(scan(scanner, '{"c":"WSE","t":"ping","p":{"server_time":"2026-03-01T10:00:25.000Z"}}')[0], false);
    assert.equal(scan(scanner, '{"c":"WSE","t":"publish_ack","p":{"cid":"1","offset":5}}')[0], false);
  });

  it('is not fooled by key-like text inside a string value', () => {
    const text = '{"tp":"x\\"o\\":99","e":"00000001","o":4,"c":"U","t":"t","p":{"s":1,"ts":2},"v":1}';
    assert.deepEqual(scan(new PublicationScanner(), text), [true, 4, 1, 2]);
  });

  it('reads a publication without publisher fields as -1', () => {
    assert.deepEqual(scan(new PublicationScanner(), '{"tp":"t","e":"00000001","o":5,"c":"U","t":"m","p":{"x":1},"v":1}'), [true, 5, -1, -1]);
  });

  it('reads what the publisher writes once the server stamps it', () => {
    const writer = new PublishFrameWriter('topic-1', 'bench', 160);
    const frame = Buffer.alloc(writer.maxFrameBytes);
    const end = writer.write(frame, 0, 123456, 1700000000654321.7);
    const headerLength = (frame[1]! & 0x7f) < 126 ? 6 : 8;
    const key = frame.subarray(headerLength - 4, headerLength);
    const payload = Buffer.from(frame.subarray(headerLength, end).map((b, i) => b ^ key[i & 3]!));
    const publish = JSON.parse(payload.toString()) as { t: string; p: { topic: string; type: string; data: unknown }; cid: string };
    assert.equal(publish.t, 'publish');
    assert.equal(publish.cid, '123456');
    assert.equal(publish.p.topic, 'topic-1');
    const stamped = `{"tp":"topic-1","e":"00000001","o":123456,"c":"U","t":"bench","p":${JSON.stringify(publish.p.data)},"v":1}`;
    assert.equal(stamped.length, 160);
    assert.deepEqual(scan(new PublicationScanner(), stamped), [true, 123456, 123456, 1700000000654321]);
  });

  it('writes decimal digits of integers up to 2^53', () => {
    const buf = Buffer.alloc(20);
    for (const value of [0, 7, 10, 99, 1000, 123456789, 2 ** 53]) {
      const end = writeDigits(buf, 1, value);
      assert.equal(buf.toString('latin1', 1, end), String(value));
    }
  });
});
