import { clientHeaderLength, writeClientFrame } from '../ws/client-frame.js';

const OPCODE_TEXT = 0x1;
/** Digits of the largest sequence or timestamp written (2^53 has 16). */
const MAX_DIGITS = 16;

/**
 * Builds client `publish` frames (PROTOCOL.md §19) straight into a batch buffer:
 * `{"t":"publish","p":{"topic":T,"type":"bench","data":{"s":SEQ,"ts":MICROS,"pad":"…"}},"cid":"SEQ"}`.
 * The publication subscribers receive carries `data` unchanged, so they read `s` and `ts` by scan.
 */
export class PublishFrameWriter {
  private readonly prefix: Buffer;
  private readonly middle: Buffer;
  private readonly tail: Buffer;
  private readonly suffix = Buffer.from('"}');
  private readonly scratch: Buffer;
  /** Largest frame this writer can produce. */
  readonly maxFrameBytes: number;

  /**
   * @param messageBytes target length of the publication subscribers receive, assuming the stamp
   *   of PROTOCOL.md §8 and six-digit offsets; the padding makes up the difference.
   */
  constructor(topic: string, type: string, messageBytes: number) {
    const quotedTopic = JSON.stringify(topic);
    const quotedType = JSON.stringify(type);
    const bare = `{"tp":${quotedTopic},"e":"00000000","o":100000,"c":"U","t":${quotedType},"p":{"s":100000,"ts":1700000000000000},"v":1}`;
    const padding = messageBytes - bare.length - ',"pad":""'.length;
    const pad = padding >= 0 ? `,"pad":"${'x'.repeat(padding)}"` : '';
    this.prefix = Buffer.from(`{"t":"publish","p":{"topic":${quotedTopic},"type":${quotedType},"data":{"s":`);
    this.middle = Buffer.from(',"ts":');
    this.tail = Buffer.from(`${pad}}},"cid":"`);
    const payloadMax = this.prefix.length + this.middle.length + this.tail.length + this.suffix.length + 3 * MAX_DIGITS;
    this.scratch = Buffer.allocUnsafe(payloadMax);
    this.maxFrameBytes = clientHeaderLength(payloadMax) + payloadMax;
  }

  /** Writes the masked frame for (seq, tsMicros) at `offset`; returns the offset after it. */
  write(target: Buffer, offset: number, seq: number, tsMicros: number): number {
    const s = this.scratch;
    let pos = this.prefix.copy(s, 0);
    pos = writeDigits(s, pos, seq);
    pos += this.middle.copy(s, pos);
    pos = writeDigits(s, pos, Math.floor(tsMicros));
    pos += this.tail.copy(s, pos);
    pos = writeDigits(s, pos, seq);
    pos += this.suffix.copy(s, pos);
    return writeClientFrame(target, offset, OPCODE_TEXT, s, 0, pos);
  }
}

/** Decimal digits of a non-negative integer ≤ 2^53. */
export function writeDigits(target: Buffer, pos: number, value: number): number {
  if (value < 10) {
    target[pos] = 0x30 + value;
    return pos + 1;
  }
  let digits = 0;
  for (let v = value; v >= 1; v = Math.floor(v / 10)) digits++;
  let v = value;
  for (let i = digits - 1; i >= 0; i--) {
    target[pos + i] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
  return pos + digits;
}
