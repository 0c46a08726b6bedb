/**
 * Per-connection events (PROTOCOL.md §3.1): plain objects in the spec's key order, encoded per
 * connection by outbound.ts (JSON, `C:`, `M:` or `E:`).
 */
import type { RecoveryOutcome } from '../recovery/store.js';
import { isoNow, uuidv7 } from './clock.js';
import { epochHex, topicJson } from './publication.js';

export type Category = 'WSE' | 'S' | 'U';

const SYSTEM_TYPES = new Set([
  'server_ready',
  'server_hello',
  'client_hello_ack',
  'connection_state_change',
  'subscription_update',
  'snapshot_complete',
  'error',
  'pong',
  'PONG',
]);

/** PROTOCOL.md §4 category rule for a message built without `c` (`snapshot_complete` gets `S`). */
export function categoryOf(t: string): Category {
  if (t.includes('_snapshot') || t.startsWith('snapshot_')) return 'S';
  return SYSTEM_TYPES.has(t) ? 'WSE' : 'U';
}

export interface ConnectionEvent {
  c: string;
  t: string;
  id: string;
  ts: string;
  seq: number;
  p: unknown;
  cid?: string;
  v: 1;
}

// PROTOCOL.md §4: process-wide diagnostic counter; server_ready always carries 1.
let seq = 1;

/** `{c, t, id, ts, seq, p, [cid], v}`; `ts` is the send time (TS drops stale unstamped messages, §8). */
export function connectionEvent(t: string, p: unknown, opts: { c?: string; cid?: string } = {}): ConnectionEvent {
  const c = opts.c ?? categoryOf(t);
  const id = uuidv7();
  const ts = isoNow();
  seq++;
  if (opts.cid === undefined) return { c, t, id, ts, seq, p, v: 1 };
  return { c, t, id, ts, seq, p, cid: opts.cid, v: 1 };
}

export interface ServerHelloInput {
  connectionId: string;
  pingIntervalMs: number;
  maxMessageSize: number;
  rateLimitCapacity: number;
  rateLimitRefill: number;
  maxInflightPublishes: number;
  cluster: boolean;
  /** Present only when this hello completes a key exchange (PROTOCOL.md §13). */
  encryptionPublicKey?: string;
}

/**
 * PROTOCOL.md §5, keys in the original's alphabetical order; no id/ts/seq. §3.1 lists server_hello
 * among the plaintext text frames: send `JSON.stringify` of it as text, never `M:`/`C:`/`E:`.
 */
export function serverHelloEvent(input: ServerHelloInput): Record<string, unknown> {
  const encrypted = input.encryptionPublicKey !== undefined;
  const p: Record<string, unknown> = { connection_id: input.connectionId };
  if (encrypted) p['encryption_public_key'] = input.encryptionPublicKey;
  p['features'] = {
    batching: true,
    cluster: input.cluster,
    compression: true,
    encryption: encrypted,
    msgpack: true,
    priority_queue: true,
    recovery: true,
  };
  p['limits'] = {
    max_inflight_publishes: input.maxInflightPublishes,
    max_message_size: input.maxMessageSize,
    rate_limit_capacity: input.rateLimitCapacity,
    rate_limit_refill: input.rateLimitRefill,
  };
  p['ping_interval'] = input.pingIntervalMs;
  p['protocol_version'] = 1;
  p['server_time'] = isoNow();
  p['server_version'] = SERVER_VERSION;
  return { c: 'WSE', p, t: 'server_hello', v: 1 };
}

/** What the original reports; no client reads it (§5). */
export const SERVER_VERSION = '2.4.1';

export interface RecoveryEntry {
  epoch: string | null;
  offset: number;
  recoverable: boolean;
  recovered: boolean;
  count: number;
}

/** PROTOCOL.md §7 reply entry for one topic from a store outcome (§8 table). */
export function recoveryEntry(outcome: RecoveryOutcome): RecoveryEntry {
  switch (outcome.kind) {
    case 'recovered':
      return { epoch: outcome.epoch, offset: outcome.offset, recoverable: true, recovered: true, count: outcome.messages.length };
    case 'not_recovered':
      return { epoch: outcome.epoch, offset: outcome.offset, recoverable: true, recovered: false, count: 0 };
    case 'no_history':
      return { epoch: null, offset: 0, recoverable: false, recovered: false, count: 0 };
  }
}

export interface SubscribeReplyInput {
  successTopics: string[];
  failedTopics: string[];
  /** The request carried `recover: true`. */
  recoverRequested: boolean;
  /** One entry per successful topic; absent when recovery is disabled. */
  recovery?: Iterable<readonly [topic: string, entry: RecoveryEntry]>;
}

/**
 * PROTOCOL.md §7 subscribe reply. `success` is true whenever `success_topics` is non-empty (TS confirms
 * topics only then); top-level `recovered` = recovery requested and every successful topic recovered;
 * top-level `recoverable` = the server keeps recovery history.
 */
export function subscribeReply(input: SubscribeReplyInput): ConnectionEvent {
  const p: Record<string, unknown> = {
    action: 'subscribe',
    success: input.successTopics.length > 0,
    success_topics: input.successTopics,
    failed_topics: input.failedTopics,
  };
  if (input.recovery !== undefined) {
    const recovery: Record<string, RecoveryEntry> = Object.create(null);
    let all = input.successTopics.length > 0;
    for (const [topic, entry] of input.recovery) {
      recovery[topic] = entry;
      all &&= entry.recovered;
    }
    p['recoverable'] = true;
    p['recovered'] = input.recoverRequested && all;
    p['recovery'] = recovery;
  }
  return connectionEvent('subscription_update', p, { c: 'WSE' });
}

/** PROTOCOL.md §7: removed topics go in `unsubscribed_topics`, never `success_topics` (TS would re-add them). */
export function unsubscribeReply(unsubscribedTopics: string[], failedTopics: string[] = []): ConnectionEvent {
  const p = {
    action: 'unsubscribe',
    success: true,
    success_topics: [],
    failed_topics: failedTopics,
    unsubscribed_topics: unsubscribedTopics,
  };
  return connectionEvent('subscription_update', p, { c: 'WSE' });
}

export interface PublishAckInput {
  cid: string;
  topic: string;
  epoch: number;
  offset: number;
}

/** PROTOCOL.md §19 `publish_ack`, exactly the spec's shape (no id/ts/seq). */
export function publishAck(input: PublishAckInput): Record<string, unknown> {
  const p = { cid: input.cid, topic: input.topic, epoch: epochHex(input.epoch), offset: input.offset };
  return { c: 'WSE', t: 'publish_ack', p, v: 1 };
}

/** `JSON.stringify(publishAck(input))`, built directly: one ack per publication. */
export function publishAckJson(input: PublishAckInput): string {
  return `{"c":"WSE","t":"publish_ack","p":{"cid":${JSON.stringify(input.cid)},"topic":${topicJson(input.topic)},"epoch":"${epochHex(input.epoch)}","offset":${input.offset}},"v":1}`;
}

export interface PublishNackInput {
  cid: string;
  topic: string;
  code: string;
  message: string;
  /** Seconds; with it the error is marked `recoverable:true` (PUBLISH_BACKPRESSURE, §19). */
  retryAfter?: number;
}

/** PROTOCOL.md §19 refusal: `publish_ack` carrying `error` instead of epoch/offset. */
export function publishNack(input: PublishNackInput): Record<string, unknown> {
  const error: Record<string, unknown> = { code: input.code, message: input.message };
  if (input.retryAfter !== undefined) {
    error['recoverable'] = true;
    error['retry_after'] = input.retryAfter;
  }
  return { c: 'WSE', t: 'publish_ack', p: { cid: input.cid, topic: input.topic, error }, v: 1 };
}
