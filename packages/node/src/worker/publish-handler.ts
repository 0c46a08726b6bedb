import { performance } from 'node:perf_hooks';
import { WseError } from '../errors.js';
import { errorFrame } from '../protocol/control-frames.js';
import { publishAck, publishAckJson, publishNack } from '../protocol/events.js';
import { publicationBody } from '../protocol/publication.js';
import { RawJson } from '../protocol/publish-scan.js';
import { signPayload } from '../protocol/signing.js';
import { isGlob } from '../topics/glob.js';
import { validateTopic } from '../topics/acl.js';
import type { WorkerContext } from './context.js';
import { backpressureError } from './publish-intake.js';
import type { Stamp } from './router.js';
import type { Session } from './session.js';

/** What a publication needs before it enters the data path. */
export interface PublishRequest {
  topic: unknown;
  data: unknown;
  type: unknown;
}

export interface ValidPublication {
  topic: string;
  body: string;
}

/**
 * Checks a publication from any entry point (client, HTTP API, library) and builds its body.
 * MESH.md E.a: stamping adds at most 48 + 2 × topic bytes, and the MSG must fit 1 MiB.
 */
export function preparePublication(ctx: WorkerContext, request: PublishRequest): ValidPublication | WseError {
  const { topic, data } = request;
  const type = request.type ?? 'message';
  if (typeof topic !== 'string' || validateTopic(topic, ctx.config.limits.maxTopicLength) !== null || isGlob(topic)) {
    return invalid('topic must be a non-empty topic name without glob or control characters');
  }
  if (data === undefined) return invalid('data is required');
  if (typeof type !== 'string' || type.length === 0 || type.length > 128) return invalid('type must be a short string');
  const key = ctx.config.signingKey;
  const body = key === null ? publicationBody(type, dataText(data)) : signedBody(type, dataValue(data), key);
  const limit = Math.min(ctx.config.limits.maxMessageSize, 1_048_576);
  // A UTF-16 unit is at most 3 UTF-8 bytes: most publications pass without counting bytes.
  const fits = 3 * body.length + 9 * topic.length + 68 <= limit || Buffer.byteLength(body) + 3 * Buffer.byteLength(topic) + 68 <= limit;
  if (!fits) {
    return new WseError('WSE_ERR_MESSAGE_TOO_LARGE', 'Publication too large', { protocolCode: 'MESSAGE_TOO_LARGE' });
  }
  return { topic, body };
}

/** Client `publish` (PROTOCOL.md §19): ACL, window, then the intake; acked when accepted. */
export function handleClientPublish(ctx: WorkerContext, session: Session, p: Record<string, unknown>, cid: string | undefined): void {
  const topic = typeof p['topic'] === 'string' ? p['topic'] : '';
  const prepared = preparePublication(ctx, { topic: p['topic'], data: p['data'], type: p['type'] });
  if (prepared instanceof WseError) return refuse(ctx, session, topic, cid, prepared);
  if (session.identity.publish === null || !session.identity.publish.allows(prepared.topic)) {
    return refuse(ctx, session, topic, cid, new WseError('WSE_ERR_PUBLISH_DENIED', 'Publishing to this topic is not allowed', { protocolCode: 'PUBLISH_DENIED' }));
  }
  if (session.inflightPublishes >= ctx.config.limits.maxInflightPublishes) {
    return refuse(ctx, session, topic, cid, backpressureError());
  }
  session.inflightPublishes++;
  session.stats.published++;
  ctx.intake.submit({
    topic: prepared.topic,
    body: prepared.body,
    source: 'client',
    receivedAt: performance.now(),
    done: (error, stamp, later) => {
      session.inflightPublishes--;
      // Inside the client's message handler its socket is corked already.
      if (later) ctx.replies.queue(session, () => reply(ctx, session, prepared.topic, cid, error, stamp));
      else reply(ctx, session, prepared.topic, cid, error, stamp);
    },
  });
}

function reply(ctx: WorkerContext, session: Session, topic: string, cid: string | undefined, error: WseError | null, stamp: Stamp | null): void {
  if (error !== null) refuse(ctx, session, topic, cid, error);
  else if (cid !== undefined) acknowledge(session, topic, cid, stamp as Stamp);
}

function acknowledge(session: Session, topic: string, cid: string, stamp: Stamp): void {
  const ack = { cid, topic, epoch: stamp.epoch, offset: stamp.offset };
  session.sendEventJson(publishAckJson(ack), () => publishAck(ack));
}

/** With a `cid` the refusal goes in `publish_ack`, without one in an `error` frame (§19). */
function refuse(ctx: WorkerContext, session: Session, topic: string, cid: string | undefined, error: WseError): void {
  const code = error.protocolCode ?? 'SERVER_ERROR';
  ctx.metrics.publishRejected.inc({ code });
  const retryAfter = code === 'PUBLISH_BACKPRESSURE' ? 1 : undefined;
  if (cid !== undefined) {
    session.sendEvent(publishNack({ cid, topic, code, message: error.message, ...(retryAfter === undefined ? {} : { retryAfter }) }));
  } else {
    session.sendText(errorFrame(code, error.message, retryAfter === undefined ? { recoverable: true } : { recoverable: true, retry_after: retryAfter }));
  }
}

/** PROTOCOL.md §14: with a signing key every publication carries `sig` (computed once, not per subscriber). */
function signedBody(type: string, data: unknown, key: string): string {
  return `{"c":"U","t":${JSON.stringify(type)},"p":${JSON.stringify(data)},"sig":${JSON.stringify(signPayload(data, key))},"v":1}`;
}

/** `data` as JSON text; a client's arrives as the text it sent (publish-scan.ts). */
function dataText(data: unknown): string {
  return data instanceof RawJson ? data.text : JSON.stringify(data);
}

/** `data` as a value: a signature covers the value, not the text a client happened to send. */
function dataValue(data: unknown): unknown {
  return data instanceof RawJson ? JSON.parse(data.text) : data;
}

function invalid(message: string): WseError {
  return new WseError('WSE_ERR_INVALID_PUBLISH', message, { protocolCode: 'INVALID_PUBLISH' });
}
