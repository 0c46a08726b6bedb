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

  new Counter({
    name: 'wse_mesh_drops_total',
    help: 'Mesh frames not delivered or not sent, by reason',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(stats().drops)) this.inc({ reason }, n);
    },
  });
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
