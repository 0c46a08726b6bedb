import { Counter, Gauge, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import { registerProcessMetrics } from './process-metrics.js';

/**
 * The worker's Prometheus metrics. Hot paths bump plain numbers in `counts`; prom-client objects
 * read them at scrape time, so per-message work is one integer add, not a label lookup.
 */
export class WorkerMetrics {
  readonly registry = new Registry();

  /** Plain counters, updated on hot paths. */
  readonly counts = {
    connectionsOpen: 0,
    messagesReceived: 0,
    messagesSent: 0,
    fanoutBacklogBytes: 0,
    subscriptions: 0,
    topics: 0,
    presenceMembers: 0,
    paced: 0,
    /** wse_publications_total by source. */
    publications: { client: 0, api: 0, library: 0, mesh: 0 } as Record<string, number>,
    /** wse_turn_queue_full_total: an end-of-turn queue reached its cap and was sent at once. */
    turnQueueFull: { publications: 0, replies: 0 },
  };

  readonly connectionsTotal: Counter;
  readonly connectionsRejected: Counter<'reason'>;
  readonly authFailures: Counter<'reason'>;
  readonly publications: Counter<'source'>;
  readonly publishRejected: Counter<'code'>;
  readonly pacedSeconds: Counter;
  readonly slowConsumerDrops: Counter;
  readonly rateLimited: Counter;
  readonly inboundDropped: Counter<'reason'>;
  readonly recoveryRequests: Counter<'outcome'>;
  readonly recoveryEvictions: Counter<'reason'>;
  readonly publishDelivery: FastHistogram;

  private readonly recoveryStats: () => { topics: number; bytes: number; budget: number; evictions: Record<string, number> };

  constructor(
    defaultLabels: Record<string, string>,
    recoveryStats: () => { topics: number; bytes: number; budget: number; evictions: Record<string, number> },
  ) {
    this.recoveryStats = recoveryStats;
    const registers = [this.registry];
    this.registry.setDefaultLabels(defaultLabels);
    const counts = this.counts;

    gauge(registers, 'wse_connections', 'Open WebSocket connections', () => counts.connectionsOpen);
    gauge(registers, 'wse_subscriptions', 'Subscriptions held by connections', () => counts.subscriptions);
    gauge(registers, 'wse_topics', 'Topics with at least one local subscriber', () => counts.topics);
    gauge(registers, 'wse_fanout_backlog_bytes', 'Bytes written to WebSocket connections but not yet sent', () => counts.fanoutBacklogBytes);
    gauge(registers, 'wse_publish_paced', '1 while this worker paces publishers', () => counts.paced);
    gauge(registers, 'wse_presence_members', 'Users present across all topics', () => counts.presenceMembers);
    gauge(registers, 'wse_recovery_topics', 'Topics with a recovery ring', () => this.recoveryStats().topics);
    gauge(registers, 'wse_recovery_bytes', 'Memory recovery rings keep alive (whole backing stores of the stored messages)', () => this.recoveryStats().bytes);
    gauge(registers, 'wse_recovery_budget_bytes', 'Recovery memory budget', () => this.recoveryStats().budget);
    monotonic(registers, 'wse_messages_received_total', 'Inbound client messages', () => counts.messagesReceived);
    monotonic(registers, 'wse_messages_sent_total', 'Frames delivered to clients', () => counts.messagesSent);

    this.connectionsTotal = new Counter({ name: 'wse_connections_total', help: 'Accepted WebSocket connections', registers });
    this.connectionsRejected = new Counter({ name: 'wse_connections_rejected_total', help: 'Connections refused before or at upgrade', labelNames: ['reason'], registers });
    this.authFailures = new Counter({ name: 'wse_auth_failures_total', help: 'Failed authentications (closed 4401)', labelNames: ['reason'], registers });
    this.publications = new Counter({
      name: 'wse_publications_total',
      help: 'Publications accepted and fanned out',
      labelNames: ['source'],
      registers,
      collect() {
        this.reset();
        for (const [source, n] of Object.entries(counts.publications)) if (n > 0) this.inc({ source }, n);
      },
    });
    new Counter({
      name: 'wse_turn_queue_full_total',
      help: 'Times an end-of-turn queue (publications to fan out, corked replies) reached its cap and was sent before the turn ended',
      labelNames: ['queue'],
      registers,
      collect() {
        this.reset();
        for (const [queue, n] of Object.entries(counts.turnQueueFull)) this.inc({ queue }, n);
      },
    });
    this.publishRejected = new Counter({ name: 'wse_publish_rejected_total', help: 'Publications refused', labelNames: ['code'], registers });
    this.pacedSeconds = new Counter({ name: 'wse_publish_paced_seconds_total', help: 'Time spent pacing publishers', registers });
    this.slowConsumerDrops = new Counter({ name: 'wse_slow_consumer_drops_total', help: 'Connections closed as slow consumers', registers });
    this.rateLimited = new Counter({ name: 'wse_rate_limited_total', help: 'Inbound messages discarded by the rate limit', registers });
    this.inboundDropped = new Counter({ name: 'wse_inbound_dropped_total', help: 'Inbound frames dropped', labelNames: ['reason'], registers });
    this.recoveryRequests = new Counter({ name: 'wse_recovery_requests_total', help: 'Recovery requests by outcome', labelNames: ['outcome'], registers });
    this.recoveryEvictions = new Counter({
      name: 'wse_recovery_evictions_total',
      help: 'Recovery rings or slots evicted',
      labelNames: ['reason'],
      registers,
      collect: () => {
        const evictions = this.recoveryStats().evictions;
        this.recoveryEvictions.reset();
        for (const [reason, n] of Object.entries(evictions)) this.recoveryEvictions.inc({ reason }, n);
      },
    });
    // Observed once per publication: prom-client's Histogram cost more than the rest of the metrics.
    this.publishDelivery = new FastHistogram(
      'wse_publish_delivery_seconds',
      'Publish intake to hand-off to the client sockets',
      [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    );
    registerProcessMetrics(registers);
  }
}

/** A gauge whose value is read at scrape time. */
export function gauge(registers: Registry[], name: string, help: string, read: () => number): void {
  new Gauge({ name, help, registers, collect() { this.set(read()); } });
}

/** A counter whose value lives in a plain number (read at scrape time). */
export function monotonic(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
}
