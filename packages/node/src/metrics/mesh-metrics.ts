import type { MeshMember, MeshStats } from '@wse/mesh';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { gauge, monotonic } from './worker-metrics.js';

/**
 * The mesh member's counters as Prometheus metrics (names in DESIGN.md, observability). The member
 * keeps plain numbers; they are read once per scrape. Peer labels are node ids, never topics.
 */
export function registerMeshMetrics(registry: Registry, member: MeshMember): void {
  const registers = [registry];
  let cached: { at: number; stats: MeshStats } | null = null;
  // One stats() per scrape, shared by every metric below.
  const stats = (): MeshStats => {
    const now = Date.now();
    if (cached === null || now - cached.at > 100) cached = { at: now, stats: member.stats() };
    return cached.stats;
  };
  const members = (): ReturnType<MeshMember['members']> => member.members();

  gauge(registers, 'wse_cluster_peers', 'Mesh members this worker has a link to', () => stats().peers);
  gauge(registers, 'wse_cluster_peers_expected', 'Mesh members this worker knows of', () => members().length);
  gauge(registers, 'wse_mesh_dlq_size', 'Entries in the dead-letter ring', () => stats().deadLetterSize);
  gauge(registers, 'wse_mesh_paused_links', 'Links this worker stopped reading (fan-out backlog)', () => stats().pausedLinks);
  gauge(registers, 'wse_mesh_full_links', 'Links above their outbound high-water mark', () => stats().fullLinks);
  gauge(registers, 'wse_mesh_outbound_bytes', 'Bytes queued on mesh links, unwritten', () => stats().links.reduce((sum, link) => sum + link.queuedBytes, 0));
  gauge(registers, 'wse_mesh_owned_topics', 'Topics this worker sequences as their owner (MESH.md E.a)', () => stats().ownedTopics);
  gauge(registers, 'wse_mesh_credits_outstanding', 'PUBLISH frames sent and not yet credited', () => stats().creditsOutstanding);
  monotonic(registers, 'wse_mesh_reconnects_total', 'Mesh reconnect attempts', () => stats().reconnects);
  monotonic(registers, 'wse_cluster_auth_failures_total', 'Mesh HELLOs refused for a bad or missing cluster proof', () => stats().authFailures);
  monotonic(registers, 'wse_mesh_bad_frames_total', 'Mesh links closed for a malformed frame', () => stats().badFrames);
  monotonic(registers, 'wse_mesh_dead_letters_total', 'Frames recorded in the dead-letter ring', () => stats().deadLetterTotal);
  monotonic(registers, 'wse_mesh_links_opened_total', 'Mesh links that completed their handshake', () => stats().linksOpened);
  monotonic(registers, 'wse_mesh_links_closed_total', 'Open mesh links that closed, for any reason', () => stats().linksClosed);
  monotonic(registers, 'wse_mesh_dead_peers_total', 'Mesh links closed because the peer stopped answering heartbeats', () => stats().deadPeers);
  monotonic(registers, 'wse_mesh_handshake_failures_total', 'Mesh link set-ups that failed: connect, TLS, HELLO or timeout', () => stats().handshakeFailures);
  monotonic(registers, 'wse_mesh_tls_failures_total', 'Inbound mesh TLS handshakes refused (certificate from another CA, none, expired)', () => stats().tlsFailures);
  monotonic(registers, 'wse_mesh_accepts_refused_total', 'Inbound mesh connections closed at once: too many handshakes pending or peers linked', () => stats().acceptsRefused);
  registerSequencerMetrics(registers, () => stats().sequencer);
  byLabel(registers, 'wse_mesh_range_fetches_total', 'Missed ranges this worker asked other members for (docs/MESH-EXTENSIONS.md E.f), by outcome', 'outcome', () => stats().rangeFetches);
  byLabel(registers, 'wse_mesh_range_requests_total', "Other members' range requests this worker answered, by whether its ring held the range", 'answer', () => stats().rangeRequests);

  // The owner drops what a closed link had queued; that link's member re-sends it (§E.b.7).
  byLabel(registers, 'wse_mesh_drops_total', 'Mesh frames not delivered or not sent, by reason', 'reason', () => ({ ...stats().drops, 'origin-gone': stats().sequencer.droppedOriginGone }));
  for (const [name, help, pick] of [
    ['wse_mesh_frames_total', 'Mesh frames by direction and peer node', (c: Traffic, d: 'in' | 'out') => (d === 'in' ? c.framesIn : c.framesOut)],
    ['wse_mesh_bytes_total', 'Mesh bytes by direction and peer node', (c: Traffic, d: 'in' | 'out') => (d === 'in' ? c.bytesIn : c.bytesOut)],
  ] as const) {
    new Counter({
      name,
      help,
      labelNames: ['direction', 'peer_node'],
      registers,
      collect() {
        this.reset();
        for (const [peerNode, counters] of Object.entries(stats().nodes)) {
          this.inc({ direction: 'in', peer_node: peerNode }, pick(counters, 'in'));
          this.inc({ direction: 'out', peer_node: peerNode }, pick(counters, 'out'));
        }
      },
    });
  }
  new Gauge({
    name: 'wse_mesh_breaker_open',
    help: '1 for each peer address whose circuit breaker is open',
    labelNames: ['peer'],
    registers,
    collect() {
      this.reset();
      for (const [peer, state] of Object.entries(stats().breakers)) this.set({ peer }, state === 'open' ? 1 : 0);
    },
  });
  // Links keep their last PING/PONG round trip; each scrape observes every link's current value.
  new Histogram({
    name: 'wse_mesh_rtt_seconds',
    help: 'Mesh link round-trip time (PING/PONG), one observation per link per scrape',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
    collect() {
      for (const link of stats().links) if (link.rttMs > 0) this.observe(link.rttMs / 1000);
    },
  });
}

type Traffic = MeshStats['nodes'][string];

/** Topic ownership and forwarding (MESH.md §E.a, §E.b): what a worker did as owner and as publisher. */
function registerSequencerMetrics(registers: Registry[], counters: () => MeshStats['sequencer']): void {
  monotonic(registers, 'wse_mesh_sequenced_total', 'Publications this worker sequenced as the topic owner', () => counters().sequenced);
  monotonic(registers, 'wse_mesh_claims_total', 'Topic ownership claims this worker made', () => counters().claims);
  monotonic(registers, 'wse_mesh_epochs_started_total', 'Topics this worker took over in a new epoch', () => counters().newEpochs);
  monotonic(registers, 'wse_mesh_handovers_continued_total', 'Topics this worker took over continuing the epoch', () => counters().continuedHandovers);
  monotonic(registers, 'wse_mesh_publishes_resent_total', 'Forwarded publications re-sent after their link closed uncredited', () => counters().resent);
  byLabel(registers, 'wse_mesh_publishes_forwarded_total', 'Publications forwarded to topic owners: sent as publisher, received as owner', 'direction', () => ({ sent: counters().publishesSent, received: counters().publishesReceived }));
  byLabel(registers, 'wse_mesh_publishes_rejected_total', 'Rejections of forwarded publications: sent as owner, received as publisher', 'direction', () => ({ sent: counters().rejectedSent, received: counters().rejectedReceived }));
  byLabel(registers, 'wse_mesh_publishes_bounced_total', 'Forwarded publications bounced: sent by a member that no longer owns the topic, received as publisher', 'direction', () => ({ sent: counters().bouncesSent, received: counters().bouncesReceived }));
  byLabel(registers, 'wse_mesh_claim_timeouts_total', 'Claims that went ahead without a settled view of the mesh (settle) or without every answer (answers)', 'phase', () => ({ settle: counters().claimSettleTimeouts, answers: counters().claimTimeouts }));
}

function byLabel(registers: Registry[], name: string, help: string, label: string, read: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers,
    collect() {
      this.reset();
      for (const [value, n] of Object.entries(read())) this.inc({ [label]: value }, n);
    },
  });
}
