export interface DeadLetter {
  topic: string;
  payload: Buffer;
  peer: string;
  error: string;
  atMs: number;
}

/** MESH.md §11 dead-letter queue: a ring of the last N frames that could not be sent; monitoring only. */
export class DeadLetterRing {
  total = 0;
  private readonly ring: DeadLetter[] = [];
  private next = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.ring.length;
  }

  push(entry: DeadLetter): void {
    this.total++;
    if (this.capacity <= 0) return;
    if (this.ring.length < this.capacity) this.ring.push(entry);
    else this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Entries, oldest first. */
  entries(): DeadLetter[] {
    if (this.ring.length < this.capacity) return this.ring.slice();
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}

/**
 * §E.b.7: MSGs still queued on a link that closed are recorded in the dead-letter ring. `unsent`
 * holds whole records (the outbound queue never splits one); returns how many MSGs were lost.
 */
export function collectDeadLetters(unsent: readonly Buffer[], peer: string, error: string, ring: DeadLetterRing): number {
  let lost = 0;
  const atMs = Date.now();
  for (const buf of unsent) {
    let p = 0;
    while (p + 12 <= buf.length) {
      const len = buf.readUInt32BE(p);
      const start = p + 4;
      if (buf[start] === 0x01) {
        const topicLen = buf.readUInt16LE(start + 2);
        const payloadLen = buf.readUInt32LE(start + 4);
        const t = start + 8;
        ring.push({
          topic: buf.toString('utf8', t, t + topicLen),
          payload: Buffer.from(buf.subarray(t + topicLen, t + topicLen + payloadLen)),
          peer,
          error,
          atMs,
        });
        lost++;
      }
      p = start + len;
    }
  }
  return lost;
}
