import { isUtf8 } from 'node:buffer';

/**
 * Decodes topic bytes to a string, validating UTF-8 (§2: undecodable UTF-8 closes the link).
 * Remembers the last topic so a stream of frames for one topic decodes without allocating.
 */
export class TopicDecoder {
  private lastBytes: Buffer = Buffer.alloc(0);
  private lastTopic = '';

  /** null when the bytes are not valid UTF-8. */
  decode(buf: Buffer, start: number, len: number): string | null {
    const last = this.lastBytes;
    if (len === last.length && len > 0) {
      let i = 0;
      while (i < len && buf[start + i] === last[i]) i++;
      if (i === len) return this.lastTopic;
    }
    const view = buf.subarray(start, start + len);
    if (!isUtf8(view)) return null;
    this.lastTopic = view.toString('utf8');
    this.lastBytes = Buffer.from(view);
    return this.lastTopic;
  }
}
