import { copyOut, copyUtf8 } from './bytes.js';
import { HEADER_LEN, MAX_FRAME, RECORD_PREFIX, TRAILER_LEN, FrameType, Flag } from './constants.js';

/** Receives each complete inner frame; returns false to stop decoding (the link is closing). */
export interface RecordHandler {
  onRecord(buf: Buffer, start: number, end: number): boolean;
}

const READ_LENGTH = 0;
const READ_BODY = 1;

/**
 * Streaming record decoder, MESH.md §2. Two states: READ_LENGTH (collecting the 4-byte big-endian
 * prefix) and READ_BODY (collecting L bytes). Records wholly inside a chunk are handed over in place;
 * only a record split across chunks is assembled, in a buffer of exactly L ≤ 1 MiB bytes.
 * A bad length sets `failed` and returns false; nothing is thrown.
 */
export class FrameDecoder {
  failed = false;
  private state = READ_LENGTH;
  private readonly lenBytes = Buffer.alloc(RECORD_PREFIX);
  private lenHave = 0;
  private body: Buffer | null = null;
  private bodyHave = 0;

  constructor(
    private readonly handler: RecordHandler,
    private readonly maxFrame = MAX_FRAME,
  ) {}

  /** Bytes held for a partial record (a gauge for tests and stats). */
  get buffered(): number {
    return this.lenHave + this.bodyHave;
  }

  push(chunk: Buffer): boolean {
    if (this.failed) return false;
    const n = chunk.length;
    let p = 0;
    while (p < n) {
      if (this.state === READ_BODY) {
        p = this.fillBody(chunk, p);
        if (this.state === READ_BODY) return true;
        const body = this.body!;
        this.body = null;
        this.bodyHave = 0;
        if (!this.handler.onRecord(body, 0, body.length)) return false;
        continue;
      }
      if (this.lenHave === 0 && n - p >= RECORD_PREFIX) {
        const len = u32be(chunk, p);
        if (!this.validLength(len)) return false;
        if (n - p - RECORD_PREFIX >= len) {
          const start = p + RECORD_PREFIX;
          p = start + len;
          if (!this.handler.onRecord(chunk, start, p)) return false;
          continue;
        }
        this.startBody(len);
        p += RECORD_PREFIX;
        continue;
      }
      this.lenBytes[this.lenHave++] = chunk[p++]!;
      if (this.lenHave === RECORD_PREFIX) {
        this.lenHave = 0;
        const len = this.lenBytes.readUInt32BE(0);
        if (!this.validLength(len)) return false;
        this.startBody(len);
      }
    }
    return true;
  }

  private validLength(len: number): boolean {
    if (len >= 1 && len <= this.maxFrame) return true;
    this.failed = true;
    return false;
  }

  private startBody(len: number): void {
    this.body = Buffer.allocUnsafe(len);
    this.bodyHave = 0;
    this.state = READ_BODY;
  }

  private fillBody(chunk: Buffer, p: number): number {
    const body = this.body!;
    const take = Math.min(body.length - this.bodyHave, chunk.length - p);
    chunk.copy(body, this.bodyHave, p, p + take);
    this.bodyHave += take;
    if (this.bodyHave === body.length) this.state = READ_LENGTH;
    return p + take;
  }
}

function u32be(b: Buffer, p: number): number {
  return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
}

/** The parsed inner header of one record; one instance per link is reused for every frame. */
export class FrameView {
  buf: Buffer = Buffer.alloc(0);
  type = 0;
  flags = 0;
  topicStart = 0;
  topicLen = 0;
  payloadStart = 0;
  payloadLen = 0;
  hasTrailer = false;
  epoch = 0;
  offset = 0;

  /** MESH.md §2: false when the record is shorter than its declared fields (close the link). */
  parse(buf: Buffer, start: number, end: number): boolean {
    const len = end - start;
    if (len < HEADER_LEN) return false;
    this.buf = buf;
    this.type = buf[start]!;
    this.flags = buf[start + 1]!;
    this.topicLen = buf[start + 2]! | (buf[start + 3]! << 8);
    this.payloadLen = u32le(buf, start + 4);
    this.topicStart = start + HEADER_LEN;
    this.payloadStart = this.topicStart + this.topicLen;
    let need = HEADER_LEN + this.topicLen + this.payloadLen;
    this.hasTrailer = this.type === FrameType.MSG && (this.flags & Flag.HAS_RECOVERY) !== 0;
    if (this.hasTrailer) need += TRAILER_LEN;
    if (need > len) return false;
    if (this.hasTrailer) {
      const t = this.payloadStart + this.payloadLen;
      this.epoch = u32le(buf, t);
      this.offset = u32le(buf, t + 4) + u32le(buf, t + 8) * 4294967296;
    }
    return true;
  }

  payload(): Buffer {
    return this.buf.subarray(this.payloadStart, this.payloadStart + this.payloadLen);
  }

  /** A copy of the payload: the socket chunk it sits in must not be pinned by long-lived data. */
  payloadCopy(): Buffer {
    return copyOut(this.buf, this.payloadStart, this.payloadStart + this.payloadLen);
  }

  /** Like `payloadCopy`, or null when the payload is not valid UTF-8 (§2: close the link). */
  utf8PayloadCopy(): Buffer | null {
    return copyUtf8(this.buf, this.payloadStart, this.payloadStart + this.payloadLen);
  }
}

/** Inline byte reads: `readUInt32LE` adds an argument check per call, and parse runs per frame. */
function u32le(b: Buffer, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
}
