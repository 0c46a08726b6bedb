import { MAX_FRAME } from '../frame/constants.js';

/** Local presence as PresenceFull carries it (§10): topic → user → {data, updated_at}. */
export type PresenceSnapshot = Record<string, Record<string, { data: unknown; updated_at: number }>>;

export interface PresenceEntry {
  topic: string;
  user: string;
  data: unknown;
  updatedAt: number;
}

/** What the member reports; merging (LWW, per-origin sentinels, §10) is the presence store's job. */
export type PresenceEvent =
  | ({ kind: 'join' | 'leave' | 'update' | 'full'; origin: string } & PresenceEntry)
  | { kind: 'origin-lost'; origin: string };

/** §10: PresenceFull chunks of at most 1 MiB − 1024 bytes, each a JSON object merged additively. */
export const PRESENCE_CHUNK = MAX_FRAME - 1024;

export function buildPresenceFull(snapshot: PresenceSnapshot, limit = PRESENCE_CHUNK): Buffer[] {
  const chunks: Buffer[] = [];
  let cur: PresenceSnapshot = {};
  let size = 2;
  for (const [topic, users] of Object.entries(snapshot)) {
    for (const [user, entry] of Object.entries(users)) {
      const piece = Buffer.byteLength(JSON.stringify({ [topic]: { [user]: entry } }));
      if (piece > limit) continue;
      if (size + piece > limit && size > 2) {
        chunks.push(Buffer.from(JSON.stringify(cur)));
        cur = {};
        size = 2;
      }
      (cur[topic] ??= {})[user] = entry;
      size += piece;
    }
  }
  if (size > 2) chunks.push(Buffer.from(JSON.stringify(cur)));
  return chunks;
}

/** null when the payload is not the §10 shape. */
export function parsePresenceFull(payload: Buffer): PresenceEntry[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(parsed)) return null;
  const out: PresenceEntry[] = [];
  for (const [topic, users] of Object.entries(parsed)) {
    if (!isObject(users)) return null;
    for (const [user, entry] of Object.entries(users)) {
      if (!isObject(entry) || typeof entry['updated_at'] !== 'number') return null;
      out.push({ topic, user, data: entry['data'] ?? null, updatedAt: entry['updated_at'] });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
