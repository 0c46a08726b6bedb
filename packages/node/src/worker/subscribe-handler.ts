import { isRecord } from '../json-object.js';
import { errorFrame } from '../protocol/control-frames.js';
import { recoveryEntry, subscribeReply, unsubscribeReply, type RecoveryEntry } from '../protocol/events.js';
import { isGlob } from '../topics/glob.js';
import { validateTopic } from '../topics/acl.js';
import type { WorkerContext } from './context.js';
import type { Session } from './session.js';

const NO_HISTORY: RecoveryEntry = { epoch: null, offset: 0, recoverable: false, recovered: false, count: 0 };

/** Subscription updates a session may send while a recovering subscribe waits; more are refused. */
const MAX_WAITING_UPDATES = 64;

/** `subscription_update` (PROTOCOL.md §7, replies and ordering exactly as written there). */
export function handleSubscriptionUpdate(ctx: WorkerContext, session: Session, p: Record<string, unknown>): void {
  // While a recovering subscribe waits for other members' rings, later updates wait behind it.
  if (session.waitingUpdates !== null) {
    if (session.waitingUpdates.length < MAX_WAITING_UPDATES) session.waitingUpdates.push(p);
    else {
      ctx.metrics.inboundDropped.inc({ reason: 'subscription_queue_full' });
      session.sendText(errorFrame('INVALID_SUBSCRIPTION', 'Too many subscription updates waiting for recovery'));
    }
    return;
  }
  const topics = p['topics'];
  if (!Array.isArray(topics) || topics.length === 0) {
    session.sendText(errorFrame('INVALID_SUBSCRIPTION', 'Missing or empty topics'));
    return;
  }
  const action = p['action'];
  if (action === 'subscribe') subscribe(ctx, session, topics, p);
  else if (action === 'unsubscribe') unsubscribe(ctx, session, topics);
  else session.sendText(errorFrame('INVALID_ACTION', `Unknown subscription action: ${String(action)}`));
}

/**
 * A recovering subscribe whose missed range this worker does not hold first fetches it from other
 * members (docs/MESH-EXTENSIONS.md E.f), holding the topic's interest meanwhile so live messages
 * reach the ring; then it is answered as any other, in one turn.
 */
function subscribe(ctx: WorkerContext, session: Session, topics: unknown[], p: Record<string, unknown>): void {
  const fetches = ctx.ranges === null ? [] : missingRanges(ctx, session, topics, p);
  if (fetches.length === 0) return subscribeNow(ctx, session, topics, p);
  const member = ctx.member!;
  session.waitingUpdates = [];
  for (const { topic } of fetches) member.addInterest(topic);
  void Promise.all(fetches.map(({ topic, epoch, from }) => ctx.ranges!.fetch(topic, epoch, from))).then(() => {
    const waiting = session.waitingUpdates ?? [];
    session.waitingUpdates = null;
    if (!session.closed) {
      subscribeNow(ctx, session, topics, p);
      for (const update of waiting) handleSubscriptionUpdate(ctx, session, update);
    }
    for (const { topic } of fetches) member.removeInterest(topic);
  });
}

/** The ranges of a recovering subscribe this worker must fetch first, for topics the session may hold. */
function missingRanges(ctx: WorkerContext, session: Session, topics: unknown[], p: Record<string, unknown>): Array<{ topic: string; epoch: number; from: number }> {
  if (p['recover'] !== true || !isRecord(p['recovery'])) return [];
  const positions = p['recovery'];
  const missing = [];
  for (const topic of new Set(topics)) {
    if (typeof topic !== 'string' || isGlob(topic) || !mayHold(ctx, session, topic)) continue;
    const position = positions[topic];
    const range = isRecord(position) ? ctx.store.missingRange(topic, position['epoch'], position['offset']) : null;
    if (range !== null) missing.push({ topic, ...range });
  }
  return missing;
}

function subscribeNow(ctx: WorkerContext, session: Session, topics: unknown[], p: Record<string, unknown>): void {
  const wantsRecovery = p['recover'] === true;
  const positions = isRecord(p['recovery']) ? p['recovery'] : {};
  const presence = p['presence'];
  const success: string[] = [];
  const failed: string[] = [];
  const recovery: Array<[string, RecoveryEntry]> = [];

  // Everything below runs in one JavaScript turn, so no publication can fall between a topic's
  // registration, its replay, the reply and the first live message (§7 "Ordering").
  for (const topic of topics) {
    if (typeof topic !== 'string' || !mayHold(ctx, session, topic)) {
      failed.push(typeof topic === 'string' ? topic : String(topic));
      continue;
    }
    ctx.index.subscribe(session, topic);
    success.push(topic);
    if (presence !== undefined && presence !== null) trackPresence(ctx, session, topic, presence);
    recovery.push([topic, isGlob(topic) ? NO_HISTORY : recoverTopic(ctx, session, topic, wantsRecovery ? positions[topic] : undefined)]);
  }
  ctx.metrics.counts.subscriptions = ctx.index.subscriptions;
  ctx.metrics.counts.topics = ctx.index.topics;
  session.sendEvent(subscribeReply({ successTopics: success, failedTopics: failed, recoverRequested: wantsRecovery, recovery }));
}

function mayHold(ctx: WorkerContext, session: Session, topic: string): boolean {
  if (validateTopic(topic, ctx.config.limits.maxTopicLength) !== null) return false;
  if (!session.identity.topics.allows(topic)) return false;
  const limit = ctx.config.limits.maxSubscriptionsPerConnection;
  return limit === 0 || session.topics.has(topic) || session.topics.size < limit;
}

/**
 * PROTOCOL.md §8: replay exactly the missed range or nothing. A replay that would push the
 * connection past its outbound limit is refused as a whole ("never partial").
 */
function recoverTopic(ctx: WorkerContext, session: Session, topic: string, position: unknown): RecoveryEntry {
  if (!isRecord(position)) return recoveryEntry(ctx.store.position(topic));
  let outcome = ctx.store.recover(topic, position['epoch'], position['offset']);
  if (outcome.kind === 'recovered' && !fitsOutbound(session, outcome.messages)) {
    outcome = { kind: 'not_recovered', epoch: outcome.epoch, offset: outcome.offset, messages: [] };
  }
  ctx.metrics.recoveryRequests.inc({ outcome: outcome.kind });
  for (const message of outcome.messages) session.sendPublication(message);
  ctx.metrics.counts.messagesSent += outcome.messages.length;
  return recoveryEntry(outcome);
}

function fitsOutbound(session: Session, messages: Buffer[]): boolean {
  let bytes = session.backlog();
  for (const message of messages) bytes += message.length + 64;
  return bytes <= session.maxOutboundBytes;
}

function trackPresence(ctx: WorkerContext, session: Session, topic: string, data: unknown): void {
  if (!ctx.config.presenceEnabled || isGlob(topic)) return;
  ctx.presence.localJoin(topic, session.userId, session.connectionId, data);
  ctx.metrics.counts.presenceMembers = ctx.presence.tracker.members;
}

function unsubscribe(ctx: WorkerContext, session: Session, topics: unknown[]): void {
  const removed: string[] = [];
  for (const topic of topics) {
    if (typeof topic !== 'string' || !ctx.index.unsubscribe(session, topic)) continue;
    removed.push(topic);
    leavePresence(ctx, session, topic);
  }
  ctx.metrics.counts.subscriptions = ctx.index.subscriptions;
  ctx.metrics.counts.topics = ctx.index.topics;
  session.sendEvent(unsubscribeReply(removed));
}

/** Sends `presence_leave` when the session was the user's last tracked connection in the topic. */
export function leavePresence(ctx: WorkerContext, session: Session, topic: string): void {
  ctx.presence.localLeave(topic, session.userId, session.connectionId);
  ctx.metrics.counts.presenceMembers = ctx.presence.tracker.members;
}
