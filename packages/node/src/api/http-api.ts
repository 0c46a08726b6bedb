import { isRecord } from '../json-object.js';
import { timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { WseError } from '../errors.js';
import { epochHex } from '../protocol/publication.js';
import { validateTopic } from '../topics/acl.js';
import type { WorkerContext } from '../worker/context.js';
import { preparePublication } from '../worker/publish-handler.js';
import type { Stamp } from '../worker/router.js';
import { CloseCode, type Session } from '../worker/session.js';
import { leavePresence } from '../worker/subscribe-handler.js';
import { openExchange, readBody, sendError, sendJson, type ApiExchange } from './http-io.js';

const MAX_BATCH_ITEMS = 1000;

type JsonHandler = (ctx: WorkerContext, exchange: ApiExchange, body: Record<string, unknown>) => void | Promise<void>;

/** The server API of PROTOCOL.md §19 on the client port, behind `Authorization: apikey <key>`. */
export function registerHttpApi(app: TemplatedApp, ctx: WorkerContext): void {
  const post = (path: string, handler: JsonHandler): void => {
    app.post(path, (res, req) => {
      const exchange = openExchange(res);
      if (!authorized(ctx, exchange, req)) return;
      readBody(exchange).then((bytes) => {
        if (bytes === null) return sendError(exchange, '413 Payload Too Large', 'BODY_TOO_LARGE', 'Request body too large');
        const body = parseObject(bytes);
        if (body === null) return sendError(exchange, '400 Bad Request', 'INVALID_JSON', 'Body must be a JSON object');
        return handler(ctx, exchange, body);
      }).catch((error: unknown) => {
        ctx.logger.error({ err: error, path }, 'api handler failed');
        sendError(exchange, '500 Internal Server Error', 'SERVER_ERROR', 'Internal error');
      });
    });
  };
  post('/api/publish', publish);
  post('/api/subscribe', (c, e, b) => changeSubscriptions(c, e, b, true));
  post('/api/unsubscribe', (c, e, b) => changeSubscriptions(c, e, b, false));
  post('/api/disconnect', disconnect);
  app.get('/api/presence', (res, req) => {
    const exchange = openExchange(res);
    if (!authorized(ctx, exchange, req)) return;
    const topic = new URLSearchParams(req.getQuery() ?? '').get('topic');
    if (topic === null || validateTopic(topic, ctx.config.limits.maxTopicLength) !== null) {
      return sendError(exchange, '400 Bad Request', 'INVALID_TOPIC', 'Query parameter topic is required');
    }
    sendJson(exchange, '200 OK', { topic, members: ctx.presence.tracker.query(topic) });
  });
  app.get('/api/info', (res, req) => {
    const exchange = openExchange(res);
    if (!authorized(ctx, exchange, req)) return;
    const topic = new URLSearchParams(req.getQuery() ?? '').get('topic');
    sendJson(exchange, '200 OK', info(ctx, topic));
  });
}

function authorized(ctx: WorkerContext, exchange: ApiExchange, req: HttpRequest): boolean {
  const expected = ctx.config.apiKey;
  if (expected === null) {
    sendError(exchange, '403 Forbidden', 'API_DISABLED', 'The HTTP API is disabled: start the node with --api-key');
    return false;
  }
  const header = req.getHeader('authorization');
  const given = header.toLowerCase().startsWith('apikey ') ? header.slice(7).trim() : '';
  if (!constantTimeEqual(given, expected)) {
    sendError(exchange, '401 Unauthorized', 'UNAUTHORIZED', 'Missing or wrong API key');
    return false;
  }
  return true;
}

/** `POST /api/publish`: one item or a batch; 429 while the worker paces publishers (§19). */
async function publish(ctx: WorkerContext, exchange: ApiExchange, body: Record<string, unknown>): Promise<void> {
  if (ctx.backlog.isPaced) {
    ctx.metrics.publishRejected.inc({ code: 'PUBLISH_BACKPRESSURE' });
    return sendError(exchange, '429 Too Many Requests', 'PUBLISH_BACKPRESSURE', 'Publishers are being paced; retry later', { 'retry-after': '1' });
  }
  const items = body['items'];
  if (items === undefined) {
    const result = await publishOne(ctx, body);
    if ('error' in result) return sendJson(exchange, statusOf(result.error.code), result);
    return sendJson(exchange, '200 OK', result);
  }
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_BATCH_ITEMS) {
    return sendError(exchange, '400 Bad Request', 'INVALID_PUBLISH', `items must be an array of 1 to ${MAX_BATCH_ITEMS} publications`);
  }
  const results = await Promise.all(items.map((item) => publishOne(ctx, isRecord(item) ? item : {})));
  sendJson(exchange, '200 OK', { results });
}

type PublishResult = { epoch: string; offset: number } | { error: { code: string; message: string } };

function publishOne(ctx: WorkerContext, item: Record<string, unknown>): Promise<PublishResult> {
  const prepared = preparePublication(ctx, { topic: item['topic'], data: item['data'], type: item['type'] });
  if (prepared instanceof WseError) return Promise.resolve(rejected(ctx, prepared));
  return new Promise((resolve) => {
    ctx.intake.submit({
      topic: prepared.topic,
      body: prepared.body,
      source: 'api',
      receivedAt: performance.now(),
      done: (error, stamp) => resolve(error === null ? stampResult(stamp as Stamp) : rejected(ctx, error)),
    });
  });
}

function stampResult(stamp: Stamp): PublishResult {
  return { epoch: epochHex(stamp.epoch), offset: stamp.offset };
}

function rejected(ctx: WorkerContext, error: WseError): PublishResult {
  const code = error.protocolCode ?? 'SERVER_ERROR';
  ctx.metrics.publishRejected.inc({ code });
  return { error: { code, message: error.message } };
}

function statusOf(code: string): string {
  if (code === 'PUBLISH_BACKPRESSURE') return '429 Too Many Requests';
  if (code === 'MESSAGE_TOO_LARGE') return '413 Payload Too Large';
  if (code === 'SERVER_ERROR') return '500 Internal Server Error';
  return '400 Bad Request';
}

/** `POST /api/subscribe|unsubscribe`: by connection or user, optionally as a queue group member. */
function changeSubscriptions(ctx: WorkerContext, exchange: ApiExchange, body: Record<string, unknown>, subscribe: boolean): void {
  const targets = findSessions(ctx, body);
  if (targets === null) return sendError(exchange, '400 Bad Request', 'INVALID_TARGET', 'connection_id or user_id is required');
  const topics = body['topics'];
  if (!Array.isArray(topics) || topics.length === 0) return sendError(exchange, '400 Bad Request', 'INVALID_SUBSCRIPTION', 'topics must be a non-empty array');
  const bad = topics.find((topic) => typeof topic !== 'string' || validateTopic(topic, ctx.config.limits.maxTopicLength) !== null);
  if (bad !== undefined) return sendError(exchange, '400 Bad Request', 'INVALID_SUBSCRIPTION', `invalid topic: ${String(bad)}`);
  const group = body['queue_group'];
  if (group !== undefined && (typeof group !== 'string' || group.length === 0 || group.length > 256)) {
    return sendError(exchange, '400 Bad Request', 'INVALID_SUBSCRIPTION', 'queue_group must be a non-empty string');
  }
  const limit = ctx.config.limits.maxSubscriptionsPerConnection;
  for (const session of targets) {
    for (const topic of topics as string[]) {
      if (!subscribe) {
        if (group === undefined) {
          if (ctx.index.unsubscribe(session, topic)) leavePresence(ctx, session, topic);
        } else ctx.index.leaveGroup(session, topic, group);
      } else if (limit === 0 || session.topics.size + session.groups.size < limit) {
        if (group === undefined) ctx.index.subscribe(session, topic);
        else ctx.index.joinGroup(session, topic, group);
      }
    }
  }
  ctx.metrics.counts.subscriptions = ctx.index.subscriptions;
  ctx.metrics.counts.topics = ctx.index.topics;
  sendJson(exchange, '200 OK', { connections: targets.length });
}

/** `POST /api/disconnect`: default 4000, which every client answers by reconnecting (§19). */
function disconnect(ctx: WorkerContext, exchange: ApiExchange, body: Record<string, unknown>): void {
  const targets = findSessions(ctx, body);
  if (targets === null) return sendError(exchange, '400 Bad Request', 'INVALID_TARGET', 'connection_id or user_id is required');
  const code = body['code'] ?? CloseCode.apiDisconnect;
  if (typeof code !== 'number' || !Number.isInteger(code) || !(code === 1000 || (code >= 4000 && code <= 4999))) {
    return sendError(exchange, '400 Bad Request', 'INVALID_CODE', 'code must be 1000 or 4000-4999');
  }
  const reason = typeof body['reason'] === 'string' ? body['reason'].slice(0, 120) : 'disconnected';
  for (const session of targets) session.end(code, 'api', reason);
  sendJson(exchange, '200 OK', { connections: targets.length });
}

function findSessions(ctx: WorkerContext, body: Record<string, unknown>): Session[] | null {
  const connectionId = body['connection_id'];
  const userId = body['user_id'];
  if (typeof connectionId === 'string') return [...ctx.sessions].filter((session) => session.connectionId === connectionId);
  if (typeof userId === 'string') return [...ctx.sessions].filter((session) => session.userId === userId);
  return null;
}

/** `GET /api/info[?topic=T]`: with a topic, also which mesh member sequences it. */
function info(ctx: WorkerContext, topic: string | null): Record<string, unknown> {
  const counts = ctx.metrics.counts;
  return {
    node_id: ctx.config.nodeId,
    workers: ctx.config.workers,
    uptime_secs: Math.floor((Date.now() - ctx.startedAtMs) / 1000),
    connections: counts.connectionsOpen,
    subscriptions: counts.subscriptions,
    topics: counts.topics,
    recovery: ctx.store.stats(),
    mesh: { instance_id: ctx.member?.instanceId ?? null, members: ctx.member?.members() ?? [] },
    ...(topic === null ? {} : { topic, owner: ctx.member?.ownerOf(topic) ?? null }),
    counters: { messages_received: counts.messagesReceived, messages_sent: counts.messagesSent, fanout_backlog_bytes: counts.fanoutBacklogBytes, paced: counts.paced === 1 },
  };
}

function parseObject(bytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}


function constantTimeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
