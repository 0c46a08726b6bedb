import { RESYNC_CHUNK } from '../frame/constants.js';

export interface ResyncChunk {
  payload: Buffer;
  continuation: boolean;
}

/**
 * MESH.md §6: the full interest list joined by `\n`, split at `\n` boundaries into chunks of at most
 * 1 MiB − 8 bytes; the first replaces (flag 0), the rest extend (CONTINUATION). An empty list is one
 * empty chunk (this implementation always sends it, §12 note 10). Topics containing `\n` cannot be
 * expressed and are skipped (counted by the caller via `skipped`).
 */
export function buildResync(topics: Iterable<string>, limit = RESYNC_CHUNK): { chunks: ResyncChunk[]; skipped: number } {
  const chunks: ResyncChunk[] = [];
  let parts: Buffer[] = [];
  let size = 0;
  let skipped = 0;
  const push = (): void => {
    chunks.push({ payload: Buffer.concat(parts), continuation: chunks.length > 0 });
    parts = [];
    size = 0;
  };
  for (const topic of topics) {
    const bytes = Buffer.from(topic, 'utf8');
    if (topic.includes('\n') || bytes.length === 0 || bytes.length > limit) {
      skipped++;
      continue;
    }
    const add = (parts.length > 0 ? 1 : 0) + bytes.length;
    if (size + add > limit) push();
    if (parts.length > 0) {
      parts.push(NEWLINE);
      size++;
    }
    parts.push(bytes);
    size += bytes.length;
  }
  if (parts.length > 0 || chunks.length === 0) push();
  return { chunks, skipped };
}

const NEWLINE = Buffer.from('\n');

/** Topics of one RESYNC payload; empty lines are ignored (§6). */
export function parseResync(payload: Buffer): string[] {
  if (payload.length === 0) return [];
  return payload.toString('utf8').split('\n').filter((t) => t.length > 0);
}
