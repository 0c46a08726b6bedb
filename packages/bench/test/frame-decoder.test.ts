import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FrameDecoder,
  OPCODE_BINARY,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_TEXT,
  type FrameErrorCode,
  type FrameSink,
} from '../src/ws/frame-decoder.js';
import { serverFrame } from '../src/ws/server-frame.js';

interface Event {
  kind: 'text' | 'binary' | 'control' | 'error';
  opcode?: number;
  data?: string;
  code?: FrameErrorCode;
}

class RecordingSink implements FrameSink {
  readonly events: Event[] = [];
  onText(buf: Buffer, start: number, end: number): void {
    this.events.push({ kind: 'text', data: buf.toString('utf8', start, end) });
  }
  onBinary(buf: Buffer, start: number, end: number): void {
    this.events.push({ kind: 'binary', data: buf.toString('latin1', start, end) });
  }
  onControl(opcode: number, buf: Buffer, start: number, end: number): void {
    this.events.push({ kind: 'control', opcode, data: buf.toString('latin1', start, end) });
  }
  onFrameError(code: FrameErrorCode): void {
    this.events.push({ kind: 'error', code });
  }
}

/** Feeds `bytes` in pieces cut at `cuts` and returns what the sink saw. */
function decode(bytes: Buffer, cuts: number[] = [], maxMessageBytes?: number): Event[] {
  const sink = new RecordingSink();
  const decoder = new FrameDecoder(sink, maxMessageBytes);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // Each piece sits in a larger buffer at an offset, as reads do in the shared read buffer.
    const read = Buffer.alloc(cut - from + 7, 0xee);
    bytes.copy(read, 3, from, cut);
    decoder.push(read, 3, 3 + cut - from);
    from = cut;
  }
  return sink.events;
}

function frame(opcode: number, payload: string | Buffer, fin = true): Buffer {
  const bytes = serverFrame(opcode, typeof payload === 'string' ? Buffer.from(payload) : payload);
  if (!fin) bytes[0] = bytes[0]! & 0x7f;
  return bytes;
}

const text = (data: string): Event => ({ kind: 'text', data });

describe('FrameDecoder', () => {
  it('decodes several whole frames from one read', () => {
    const bytes = Buffer.concat([frame(OPCODE_TEXT, 'one'), frame(OPCODE_BINARY, 'two'), frame(OPCODE_TEXT, '')]);
    assert.deepEqual(decode(bytes), [text('one'), { kind: 'binary', data: 'two' }, text('')]);
  });

  it('reassembles a frame cut at every possible position', () => {
    const bytes = Buffer.concat([frame(OPCODE_TEXT, 'hello'), frame(OPCODE_TEXT, 'world!')]);
    for (let cut = 1; cut < bytes.length; cut++) {
      assert.deepEqual(decode(bytes, [cut]), [text('hello'), text('world!')], `cut at ${cut}`);
    }
  });

  it('reads 16-bit lengths, whole and split inside the extended length', () => {
    const payload = 'x'.repeat(300);
    const bytes = frame(OPCODE_TEXT, payload);
    assert.equal(bytes[1], 126);
    assert.deepEqual(decode(bytes), [text(payload)]);
    for (const cut of [1, 2, 3, 4, 150]) assert.deepEqual(decode(bytes, [cut]), [text(payload)], `cut at ${cut}`);
  });

  it('reads 64-bit lengths, whole and byte by byte through the header', () => {
    const payload = 'y'.repeat(70_000);
    const bytes = frame(OPCODE_TEXT, payload);
    assert.equal(bytes[1], 127);
    assert.deepEqual(decode(bytes), [text(payload)]);
    assert.deepEqual(decode(bytes, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 40_000]), [text(payload)]);
  });

  it('assembles a fragmented message with a ping between its fragments', () => {
    const bytes = Buffer.concat([
      frame(OPCODE_TEXT, 'frag', false),
      frame(OPCODE_PING, 'p'),
      frame(0x0, 'men', false),
      frame(0x0, 'ted'),
    ]);
    const expected = [{ kind: 'control', opcode: OPCODE_PING, data: 'p' }, text('fragmented')];
    assert.deepEqual(decode(bytes), expected);
    for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(decode(bytes, [cut]), expected, `cut at ${cut}`);
  });

  it('passes close frames with their code', () => {
    const payload = Buffer.from([0x0f, 0xa8, 0x73, 0x6c, 0x6f, 0x77]);
    const events = decode(frame(OPCODE_CLOSE, payload));
    assert.equal(events[0]?.opcode, OPCODE_CLOSE);
    assert.equal(Buffer.from(events[0]!.data!, 'latin1').readUInt16BE(0), 4008);
  });

  it('turns bad input into one error and stops, without throwing', () => {
    const masked = frame(OPCODE_TEXT, 'abc');
    masked[1] = masked[1]! | 0x80;
    const rsv = frame(OPCODE_TEXT, 'abc');
    rsv[0] = rsv[0]! | 0x40;
    const cases: Array<[Buffer, FrameErrorCode]> = [
      [masked, 'MASKED_SERVER_FRAME'],
      [rsv, 'RESERVED_BITS'],
      [frame(0x3, 'x'), 'BAD_OPCODE'],
      [frame(OPCODE_PING, 'x'.repeat(126)), 'BAD_CONTROL_FRAME'],
      [frame(OPCODE_PING, 'x', false), 'BAD_CONTROL_FRAME'],
      [frame(0x0, 'x'), 'UNEXPECTED_CONTINUATION'],
      [Buffer.concat([frame(OPCODE_TEXT, 'a', false), frame(OPCODE_TEXT, 'b')]), 'INTERLEAVED_MESSAGE'],
    ];
    for (const [bytes, code] of cases) {
      assert.deepEqual(decode(Buffer.concat([bytes, frame(OPCODE_TEXT, 'after')])), [{ kind: 'error', code }], code);
    }
  });

  it('refuses a message longer than its bound, even when fragmented', () => {
    assert.deepEqual(decode(frame(OPCODE_TEXT, 'x'.repeat(200)), [], 100), [{ kind: 'error', code: 'MESSAGE_TOO_LARGE' }]);
    const fragments = Buffer.concat([frame(OPCODE_TEXT, 'x'.repeat(60), false), frame(0x0, 'x'.repeat(60))]);
    assert.deepEqual(decode(fragments, [], 100), [{ kind: 'error', code: 'MESSAGE_TOO_LARGE' }]);
  });
});
