import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 §4.2.2: the server's proof that it read our key. */
const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_RESPONSE_HEAD_BYTES = 16 * 1024;

export interface UpgradeRequest {
  host: string;
  port: number;
  path: string;
  headers?: Record<string, string>;
  /** Source address to bind (e.g. 127.0.0.2): each gives its own ~28K ephemeral ports to a destination. */
  localAddress?: string;
}

export function acceptFor(key: string): string {
  return createHash('sha1').update(key + ACCEPT_GUID).digest('base64');
}

/** The upgrade request; no extensions offered (PROTOCOL.md §1: no permessage-deflate). */
export function buildUpgradeRequest(request: UpgradeRequest): { bytes: Buffer; key: string } {
  const key = randomBytes(16).toString('base64');
  let head =
    `GET ${request.path} HTTP/1.1\r\nHost: ${request.host}:${request.port}\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
    'Sec-WebSocket-Version: 13\r\n';
  for (const [name, value] of Object.entries(request.headers ?? {})) head += `${name}: ${value}\r\n`;
  return { bytes: Buffer.from(head + '\r\n', 'latin1'), key };
}

export type UpgradeOutcome =
  | { kind: 'incomplete' }
  | { kind: 'accepted'; bodyStart: number }
  | { kind: 'rejected'; reason: string };

/**
 * Accumulates the response head across reads; `accepted.bodyStart` is where WebSocket frames begin
 * inside the chunk that completed the head.
 */
export class UpgradeResponseReader {
  private head = '';

  constructor(private readonly key: string) {}

  push(buf: Buffer, start: number, end: number): UpgradeOutcome {
    const before = this.head.length;
    this.head += buf.toString('latin1', start, end);
    const headEnd = this.head.indexOf('\r\n\r\n');
    if (headEnd < 0) {
      if (this.head.length > MAX_RESPONSE_HEAD_BYTES) return rejected('response head too large');
      return { kind: 'incomplete' };
    }
    const verdict = this.check(this.head.slice(0, headEnd));
    if (verdict !== null) return rejected(verdict);
    return { kind: 'accepted', bodyStart: start + (headEnd + 4 - before) };
  }

  private check(head: string): string | null {
    const lines = head.split('\r\n');
    const status = lines[0] ?? '';
    if (!/^HTTP\/1\.1 101\b/.test(status)) return `unexpected status: ${status}`;
    const accept = lines
      .map((line) => /^sec-websocket-accept:\s*(.+?)\s*$/i.exec(line)?.[1])
      .find((value) => value !== undefined);
    if (accept !== acceptFor(this.key)) return 'bad Sec-WebSocket-Accept';
    return null;
  }
}

function rejected(reason: string): UpgradeOutcome {
  return { kind: 'rejected', reason };
}
