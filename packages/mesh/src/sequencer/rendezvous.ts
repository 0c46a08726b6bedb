import { createHash } from 'node:crypto';

/** MESH.md §E.a: the first 8 bytes of SHA-256(UTF-8(T) ‖ 00 ‖ UTF-8(id)), big-endian. */
export function score(topic: string, instanceId: string): Buffer {
  return createHash('sha256').update(topic, 'utf8').update(ZERO).update(instanceId, 'utf8').digest().subarray(0, 8);
}

const ZERO = Buffer.from([0]);

/** The candidate with the highest score; on a tie the byte-wise smaller id. '' when there is none. */
export function pickOwner(topic: string, candidates: readonly string[]): string {
  let best = '';
  let bestScore: Buffer | null = null;
  for (const id of candidates) {
    const s = score(topic, id);
    const cmp = bestScore === null ? 1 : Buffer.compare(s, bestScore);
    if (cmp > 0 || (cmp === 0 && Buffer.compare(Buffer.from(id), Buffer.from(best)) < 0)) {
      best = id;
      bestScore = s;
    }
  }
  return best;
}
