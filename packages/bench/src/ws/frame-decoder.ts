/**
 * Server-to-client WebSocket frame decoder (RFC 6455 §5.2), written for the load client's hot path.
 *
 * A complete unfragmented frame that lies inside one read is handed to the sink as a view of the
 * read buffer (no copy). Only a frame split across reads, or a fragmented message, is copied into
 * the bounded assembly buffer. Bad input never throws: it sets `failed` and reports one error code.
 */

export const OPCODE_CONTINUATION = 0x0;
export const OPCODE_TEXT = 0x1;
export const OPCODE_BINARY = 0x2;
export const OPCODE_CLOSE = 0x8;
export const OPCODE_PING = 0x9;
export const OPCODE_PONG = 0xa;

export type FrameErrorCode =
  | 'RESERVED_BITS'
  | 'MASKED_SERVER_FRAME'
  | 'BAD_OPCODE'
  | 'BAD_CONTROL_FRAME'
  | 'UNEXPECTED_CONTINUATION'
  | 'INTERLEAVED_MESSAGE'
  | 'MESSAGE_TOO_LARGE';

export interface FrameSink {
  /** A complete text message; the bytes are valid only during the call. */
  onText(buf: Buffer, start: number, end: number): void;
  /** A complete binary message; the bytes are valid only during the call. */
  onBinary(buf: Buffer, start: number, end: number): void;
  /** Close, ping or pong (payload ≤ 125 bytes). */
  onControl(opcode: number, buf: Buffer, start: number, end: number): void;
  onFrameError(code: FrameErrorCode): void;
}

const enum State {
  Header,
  Payload,
}

const MAX_CONTROL_PAYLOAD = 125;
const INITIAL_ASSEMBLY_BYTES = 64 * 1024;

export class FrameDecoder {
  failed = false;
  private state = State.Header;
  private readonly head = Buffer.alloc(10);
  private headFill = 0;
  private fin = false;
  private opcode = 0;
  private remaining = 0;
  /** Opcode of the fragmented message being assembled; 0 when none. */
  private messageOpcode = 0;
  private assembly: Buffer = Buffer.alloc(INITIAL_ASSEMBLY_BYTES);
  private assemblyLength = 0;
  private readonly control = Buffer.alloc(MAX_CONTROL_PAYLOAD);
  private controlLength = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly maxMessageBytes = 16 * 1024 * 1024,
  ) {}

  /** Bytes held for an incomplete frame or message (bounded by maxMessageBytes). */
  get bufferedBytes(): number {
    return this.assemblyLength + this.controlLength + this.headFill;
  }

  push(buf: Buffer, start: number, end: number): void {
    let pos = start;
    while (pos < end && !this.failed) {
      if (this.state === State.Payload) {
        pos = this.collectPayload(buf, pos, end);
      } else if (this.headFill === 0) {
        pos = this.readHeaderInPlace(buf, pos, end);
      } else {
        pos = this.collectHeader(buf, pos, end);
      }
    }
  }

  /** Fast path: header parsed straight from the read buffer, payload emitted as a view if whole. */
  private readHeaderInPlace(buf: Buffer, pos: number, end: number): number {
    const available = end - pos;
    const headLength = available >= 2 ? headerLength(buf[pos + 1]!) : 10;
    if (available < headLength) {
      buf.copy(this.head, 0, pos, end);
      this.headFill = available;
      return end;
    }
    const length = payloadLength(buf, pos);
    if (!this.beginFrame(buf[pos]!, buf[pos + 1]!, length)) return end;
    const payloadStart = pos + headLength;
    const direct = this.messageOpcode === 0 && this.fin && length <= end - payloadStart;
    if (!direct) return this.startPayload(payloadStart, length);
    this.emit(this.opcode, buf, payloadStart, payloadStart + length);
    return payloadStart + length;
  }

  private collectHeader(buf: Buffer, pos: number, end: number): number {
    if (this.headFill < 2) {
      this.head[this.headFill++] = buf[pos++]!;
      return pos;
    }
    const need = headerLength(this.head[1]!);
    const take = Math.min(need - this.headFill, end - pos);
    buf.copy(this.head, this.headFill, pos, pos + take);
    this.headFill += take;
    pos += take;
    if (this.headFill < need) return pos;
    this.headFill = 0;
    const length = payloadLength(this.head, 0);
    if (!this.beginFrame(this.head[0]!, this.head[1]!, length)) return end;
    return this.startPayload(pos, length);
  }

  private startPayload(pos: number, length: number): number {
    this.remaining = length;
    this.state = State.Payload;
    if (length === 0) this.finishFrame();
    return pos;
  }

  private collectPayload(buf: Buffer, pos: number, end: number): number {
    const take = Math.min(this.remaining, end - pos);
    if (isControl(this.opcode)) {
      buf.copy(this.control, this.controlLength, pos, pos + take);
      this.controlLength += take;
    } else {
      this.ensureAssembly(this.assemblyLength + take);
      buf.copy(this.assembly, this.assemblyLength, pos, pos + take);
      this.assemblyLength += take;
    }
    this.remaining -= take;
    if (this.remaining === 0) this.finishFrame();
    return pos + take;
  }

  private finishFrame(): void {
    this.state = State.Header;
    if (isControl(this.opcode)) {
      const length = this.controlLength;
      this.controlLength = 0;
      this.sink.onControl(this.opcode, this.control, 0, length);
      return;
    }
    if (this.opcode !== OPCODE_CONTINUATION) this.messageOpcode = this.opcode;
    if (!this.fin) return;
    const opcode = this.messageOpcode;
    const length = this.assemblyLength;
    this.messageOpcode = 0;
    this.assemblyLength = 0;
    this.emit(opcode, this.assembly, 0, length);
  }

  /** Validates one frame header (RFC 6455 §5.2, §5.5); false when the stream is now unusable. */
  private beginFrame(b0: number, b1: number, length: number): boolean {
    const opcode = b0 & 0x0f;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = opcode;
    if ((b0 & 0x70) !== 0) return this.fail('RESERVED_BITS');
    if ((b1 & 0x80) !== 0) return this.fail('MASKED_SERVER_FRAME');
    if (isControl(opcode)) {
      if (opcode > OPCODE_PONG) return this.fail('BAD_OPCODE');
      if (!this.fin || length > MAX_CONTROL_PAYLOAD) return this.fail('BAD_CONTROL_FRAME');
      return true;
    }
    if (opcode > OPCODE_BINARY) return this.fail('BAD_OPCODE');
    if (opcode === OPCODE_CONTINUATION && this.messageOpcode === 0) {
      return this.fail('UNEXPECTED_CONTINUATION');
    }
    if (opcode !== OPCODE_CONTINUATION && this.messageOpcode !== 0) {
      return this.fail('INTERLEAVED_MESSAGE');
    }
    if (this.assemblyLength + length > this.maxMessageBytes) return this.fail('MESSAGE_TOO_LARGE');
    return true;
  }

  private emit(opcode: number, buf: Buffer, start: number, end: number): void {
    if (opcode === OPCODE_TEXT) this.sink.onText(buf, start, end);
    else if (opcode === OPCODE_BINARY) this.sink.onBinary(buf, start, end);
    else this.sink.onControl(opcode, buf, start, end);
  }

  private ensureAssembly(size: number): void {
    if (size <= this.assembly.length) return;
    let capacity = this.assembly.length;
    while (capacity < size) capacity *= 2;
    const grown = Buffer.allocUnsafe(Math.min(capacity, this.maxMessageBytes));
    this.assembly.copy(grown, 0, 0, this.assemblyLength);
    this.assembly = grown;
  }

  private fail(code: FrameErrorCode): false {
    this.failed = true;
    this.sink.onFrameError(code);
    return false;
  }
}

function isControl(opcode: number): boolean {
  return (opcode & 0x08) !== 0;
}

/** Header bytes before the payload; a masked server frame is rejected before its key matters. */
function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  if (len7 < 126) return 2;
  return len7 === 126 ? 4 : 10;
}

/** Payload length from a complete header at `pos`; 64-bit lengths beyond 2^53 read as Infinity. */
function payloadLength(buf: Buffer, pos: number): number {
  const len7 = buf[pos + 1]! & 0x7f;
  if (len7 < 126) return len7;
  if (len7 === 126) return buf.readUInt16BE(pos + 2);
  const high = buf.readUInt32BE(pos + 2);
  if (high > 0x1fffff) return Infinity;
  return high * 0x100000000 + buf.readUInt32BE(pos + 6);
}
