import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RawJson, scanPublish } from '../src/protocol/publish-scan.js';

/** What the general path (JSON.parse, then inbound.ts's reading of it) makes of a publish frame. */
function generalPath(text: string): { topic: unknown; type: unknown; data: unknown; cid: unknown } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const frame = value as Record<string, unknown>;
  const p = (frame['p'] ?? {}) as Record<string, unknown>;
  return { topic: p['topic'], type: p['type'], data: p['data'], cid: frame['cid'] };
}

/** The scan may decline anything, but what it returns must be what JSON.parse reads. */
function assertAgrees(text: string): void {
  const scanned = scanPublish(text, 0);
  if (scanned === null) return;
  const general = generalPath(text);
  assert.notEqual(general, null, `accepted text JSON.parse refuses: ${JSON.stringify(text)}`);
  assert.equal(scanned.p.topic, general!.topic, text);
  assert.equal(scanned.p.type, general!.type, text);
  assert.equal(scanned.cid, general!.cid, text);
  assert.deepEqual(JSON.parse(scanned.p.data.text), general!.data, text);
}

/** Deterministic generator (mulberry32), so a failure names a reproducible case. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces of string contents, escapes included (a raw `"` or control character would end or break them). */
const STRING_PARTS = ['a', 'ü', '€', '😀', '\\"', '\\\\', '\\/', '\\n', '\\u00e9', '\\uD83D\\uDE00', ' ', 'data'];
const NUMBERS = ['0', '-0', '1', '-12', '3.25', '1e3', '1E+2', '2e-7', '12345678901234567890', '0.5e10'];

function jsonText(next: () => number, depth: number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)]!;
  const space = (): string => pick(['', '', ' ', '\n', '\t ']);
  const kind = depth > 3 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  if (kind === 0) return pick(NUMBERS);
  if (kind === 1) return pick(['true', 'false', 'null']);
  if (kind === 2 || kind === 3) {
    let s = '';
    for (let n = Math.floor(next() * 4); n > 0; n--) s += pick(STRING_PARTS);
    return `"${s}"`;
  }
  const items: string[] = [];
  for (let n = Math.floor(next() * 4); n > 0; n--) {
    const item = jsonText(next, depth + 1);
    items.push(kind === 4 ? `${space()}${item}${space()}` : `${space()}"${pick(['t', 'p', 'data', 'topic', 'k'])}"${space()}:${space()}${item}`);
  }
  return kind === 4 ? `[${items.join(',')}]` : `{${items.join(',')}}`;
}

function publishFrame(next: () => number): string {
  const data = jsonText(next, 0);
  const n = Math.floor(next() * 9);
  const members = [next() < 0.2 ? `"topic":"t\\u00e9\\\\${n}"` : `"topic":"t${n}"`, `"data":${data}`];
  if (next() < 0.5) members.push(next() < 0.2 ? `"type":"k\\n"` : `"type":"kind"`);
  if (next() < 0.3) members.push(`"extra":${jsonText(next, 2)}`);
  if (next() < 0.5) members.reverse();
  const top = [`"t":"publish"`, `"p":{${members.join(next() < 0.5 ? ',' : ' , ')}}`];
  if (next() < 0.6) top.push(`"cid":"c${Math.floor(next() * 100)}"`);
  if (next() < 0.3) top.push(`"c":"U"`);
  if (next() < 0.5) top.reverse();
  return `{${top.join(',')}}`;
}

/** One byte-level change: JSON's structure characters, quotes, escapes and digits. */
function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * text.length);
  const insert = '{}[]":,\\ 0-.eu"\u0001'[Math.floor(next() * 17)]!;
  const kind = Math.floor(next() * 3);
  if (kind === 0) return text.slice(0, at) + text.slice(at + 1);
  if (kind === 1) return text.slice(0, at) + insert + text.slice(at);
  return text.slice(0, at) + insert + text.slice(at + 1);
}

describe('publish frame fast path (scanPublish)', () => {
  it('reads the common frame and keeps data as the text it arrived in', () => {
    const text = '{"t":"publish","p":{"topic":"chat:42","type":"chat_message","data":{"text":"hi", "n":12345678901234567890}},"cid":"c-17"}';
    const scanned = scanPublish(text, 0);
    assert.ok(scanned !== null);
    assert.equal(scanned.t, 'publish');
    assert.equal(scanned.p.topic, 'chat:42');
    assert.equal(scanned.p.type, 'chat_message');
    assert.equal(scanned.cid, 'c-17');
    assert.ok(scanned.p.data instanceof RawJson);
    assert.equal(scanned.p.data.text, '{"text":"hi", "n":12345678901234567890}');
  });

  it('starts past a legacy prefix and allows white space anywhere JSON does', () => {
    const scanned = scanPublish('WSE \n{ "p" : { "data" : [ 1 , 2 ] , "topic" : "a" } , "t" : "publish" }\t', 3);
    assert.equal(scanned?.p.data.text, '[ 1 , 2 ]');
    assert.equal(scanned?.p.type, undefined);
    assert.equal(scanned?.cid, undefined);
  });

  it('counts the last of a repeated name, as JSON.parse does', () => {
    assert.equal(scanPublish('{"t":"publish","p":{"topic":"a","data":1},"t":"ping"}', 0), null);
    const scanned = scanPublish('{"p":{"topic":"a","data":1},"t":"publish","p":{"topic":"a","data":1,"topic":"b","data":"x"},"cid":"1","cid":"2"}', 0);
    assert.equal(scanned?.p.topic, 'b');
    assert.equal(scanned?.p.data.text, '"x"');
    assert.equal(scanned?.cid, '2');
  });

  it('unescapes the strings it reads as JSON.parse does', () => {
    const scanned = scanPublish('{"t":"publish","p":{"topic":"a\\u0062\\/","type":"\\n","data":"\\u00e9"},"cid":"\\"q"}', 0);
    assert.equal(scanned?.p.topic, 'ab/');
    assert.equal(scanned?.p.type, '\n');
    assert.equal(scanned?.cid, '"q');
    assert.equal(scanned?.p.data.text, '"\\u00e9"');
  });

  it('leaves to the general path what it does not read itself', () => {
    const declined = [
      '{"t":"subscription_update","p":{"topic":"a","data":1}}',
      '{"t":"ping","p":{"topic":"a","data":1},"t":"publish"}',
      '{"type":"publish","payload":{"topic":"a","data":1}}',
      '{"t":"publish","p":{"topic":"a"}}',
      '{"t":"publish","p":{"data":1}}',
      '{"t":"publish","p":[1]}',
      '{"t":"publish","p":{"topic":"a","type":7,"data":1}}',
      '{"t":"publish","p":{"topic":"a","data":1},"cid":7}',
      '{"\\u0074":"publish","p":{"topic":"a","data":1}}',
      `{"t":"publish","p":{"topic":"a","data":${'['.repeat(100)}${']'.repeat(100)}}}`,
      '{}',
      '',
    ];
    for (const text of declined) assert.equal(scanPublish(text, 0), null, text);
  });

  it('refuses every kind of invalid JSON', () => {
    const invalid = [
      '{"t":"publish","p":{"topic":"a","data":01}}',
      '{"t":"publish","p":{"topic":"a","data":1.}}',
      '{"t":"publish","p":{"topic":"a","data":.5}}',
      '{"t":"publish","p":{"topic":"a","data":+1}}',
      '{"t":"publish","p":{"topic":"a","data":1e}}',
      '{"t":"publish","p":{"topic":"a","data":-}}',
      '{"t":"publish","p":{"topic":"a","data":NaN}}',
      '{"t":"publish","p":{"topic":"a","data":tru}}',
      '{"t":"publish","p":{"topic":"a","data":[1,]}}',
      '{"t":"publish","p":{"topic":"a","data":{"k":1,}}}',
      '{"t":"publish","p":{"topic":"a","data":"\\x"}}',
      '{"t":"publish","p":{"topic":"a","data":"\\u12G4"}}',
      '{"t":"publish","p":{"topic":"a","data":"tab\there"}}',
      '{"t":"publish","p":{"topic":"a","data":"open}}',
      '{"t":"publish","p":{"topic":"a","data":1}} x',
      '{"t":"publish","p":{"topic":"a","data":1}',
      "{'t':'publish','p':{'topic':'a','data':1}}",
      '{"t":"publish","p":{"topic":"a","data":1}\u00a0}',
    ];
    for (const text of invalid) {
      assert.throws(() => JSON.parse(text), SyntaxError, `the case itself must be invalid: ${text}`);
      assert.equal(scanPublish(text, 0), null, text);
    }
  });

  it('agrees with JSON.parse on 20,000 generated frames and single-character mutations of them', () => {
    const next = random(0x5eed);
    let accepted = 0;
    for (let n = 0; n < 10_000; n++) {
      const frame = publishFrame(next);
      assert.notEqual(scanPublish(frame, 0), null, `a plain generated frame is taken: ${frame}`);
      assertAgrees(frame);
      const mutated = mutate(frame, next);
      if (scanPublish(mutated, 0) !== null) accepted++;
      assertAgrees(mutated);
    }
    // Some mutations keep the frame valid (a digit, a space), so both outcomes were exercised.
    assert.ok(accepted > 0 && accepted < 10_000, `mutations accepted: ${accepted}`);
  });
});
