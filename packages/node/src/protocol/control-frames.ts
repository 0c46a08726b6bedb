/**
 * Control frames (PROTOCOL.md §3.1): always plaintext text frames, even on encrypted or msgpack
 * connections. Built as strings with the byte order the spec shows; only the `ping`/`PONG` prefix is
 * load-bearing (PY sniffs `"t":"PONG"` within the first 25 characters, §4).
 */
import { isoNow, uuidv7 } from './clock.js';

export interface ServerReadyInput {
  connectionId: string;
  userId: string;
  /** RFC 3339 send time; `ts` and `server_time` are both this value. */
  now: string;
  /** PROTOCOL.md §8: stamps are only meaningful to clients told `recovery:true`. */
  recovery?: boolean;
}

/** PROTOCOL.md §5, in the original's alphabetical byte order; `seq` is always 1. */
export function serverReadyFrame(input: ServerReadyInput): string {
  const recovery = input.recovery ?? true;
  return (
    `{"c":"WSE","id":"${uuidv7()}","p":{"details":{"connection_id":${JSON.stringify(input.connectionId)},` +
    `"features":{"batching":true,"circuit_breaker":true,"compression":true,"encryption":false,` +
    `"priority_queue":true,"recovery":${recovery}},"server_time":${JSON.stringify(input.now)},` +
    `"user_id":${JSON.stringify(input.userId)},"version":1},"message":"Connection established"},` +
    `"seq":1,"t":"server_ready","ts":${JSON.stringify(input.now)},"v":1}`
  );
}

/** PROTOCOL.md §6: server heartbeat; no `v`, as the original sends it. */
export function pingFrame(serverTimeIso: string): string {
  return `{"c":"WSE","t":"ping","p":{"server_time":${JSON.stringify(serverTimeIso)}}}`;
}

/** PROTOCOL.md §6: reply to any client `ping`; `echo` is the client's numeric timestamp, else 0. */
export function pongFrame(echo: number, nowMs: number): string {
  const client = Number.isFinite(echo) ? echo : 0;
  const latency = Math.max(0, nowMs - client);
  return `{"c":"WSE","t":"PONG","p":{"client_timestamp":${client},"server_timestamp":${nowMs},"latency":${latency}},"v":1}`;
}

export interface ErrorExtra {
  recoverable?: boolean;
  /** Seconds; written as a float (`1.0`) like the original. */
  retry_after?: number;
  details?: Record<string, unknown>;
  /** PROTOCOL.md §11 SUBSCRIPTION_FAILED: TS reads `p.topics`, PY `p.details.topics`; both are written. */
  topics?: string[];
}

/** PROTOCOL.md §11 error shape; `timestamp` is the send time. */
export function errorFrame(code: string, message: string, extra: ErrorExtra = {}): string {
  let p = `"code":${JSON.stringify(code)},"message":${JSON.stringify(message)},"timestamp":"${isoNow()}"`;
  if (extra.recoverable !== undefined) p += `,"recoverable":${extra.recoverable}`;
  if (extra.retry_after !== undefined) p += `,"retry_after":${seconds(extra.retry_after)}`;
  const details = extra.topics === undefined ? extra.details : { ...extra.details, topics: extra.topics };
  if (details !== undefined) p += `,"details":${JSON.stringify(details)}`;
  if (extra.topics !== undefined) p += `,"topics":${JSON.stringify(extra.topics)}`;
  return `{"c":"WSE","t":"error","p":{${p}},"v":1}`;
}

/** PROTOCOL.md §12: `current_rate` = capacity − tokens and `remaining` = tokens, both truncated. */
export function rateLimitWarningFrame(capacity: number, tokens: number): string {
  const remaining = Math.trunc(Math.max(0, tokens));
  const used = Math.trunc(capacity - Math.max(0, tokens));
  return `{"c":"WSE","t":"rate_limit_warning","p":{"current_rate":${used},"limit":${capacity},"remaining":${remaining},"retry_after":1.0},"v":1}`;
}

const RATE_LIMITED = '{"c":"WSE","t":"error","p":{"code":"RATE_LIMITED","message":"Rate limit exceeded","retry_after":1.0},"v":1}';

/** PROTOCOL.md §12, byte for byte (no `timestamp`, as the spec shows it). */
export function rateLimitedFrame(): string {
  return RATE_LIMITED;
}

function seconds(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}
