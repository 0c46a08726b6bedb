import type { MeshLink, TrafficCounters } from './link/mesh-link.js';
import type { DeadLetterRing } from './membership/dead-letter.js';
import type { LinkTable } from './membership/link-table.js';
import type { AddressStatus, PeerDirectory } from './membership/peer-directory.js';
import type { MemberCounters, MeshStats } from './metrics.js';
import type { Sequencer } from './sequencer/sequencer.js';

/** One row of `members()`: a peer, linked or only known by address (§E.c membership API). */
export interface MemberInfoRow {
  instance_id: string;
  node_id: string;
  worker_index: number;
  worker_count: number;
  address: string;
  connected: boolean;
  capabilities: number;
  state: 'up' | 'draining' | 'dialing' | 'waiting' | 'stopped' | 'breaker-open';
}

export function memberRows(links: readonly MeshLink[], addresses: readonly AddressStatus[]): MemberInfoRow[] {
  const rows: MemberInfoRow[] = links.map((l) => ({
    instance_id: l.peerId,
    node_id: l.nodeId,
    worker_index: l.peer?.info?.workerIndex ?? 0,
    worker_count: l.peer?.info?.workerCount ?? 0,
    address: l.peer?.info?.address || l.address,
    connected: true,
    capabilities: l.caps,
    state: l.peerDraining ? 'draining' : 'up',
  }));
  for (const e of addresses) {
    if (e.state === 'linked') continue;
    rows.push({
      instance_id: e.instanceId,
      node_id: '',
      worker_index: 0,
      worker_count: 0,
      address: e.address,
      connected: false,
      capabilities: 0,
      state: e.breaker === 'open' ? 'breaker-open' : e.state,
    });
  }
  return rows;
}

type LinkPart = Pick<MeshStats, 'peers' | 'nodes' | 'links' | 'reconnects' | 'breakers' | 'pausedLinks' | 'fullLinks'>;

/** The per-link and per-node part of `stats()`. */
export function linkStats(links: readonly MeshLink[], nodes: ReadonlyMap<string, TrafficCounters>, directory: PeerDirectory): LinkPart {
  const perNode: Record<string, TrafficCounters> = {};
  for (const [id, c] of nodes) perNode[id] = { ...c };
  const breakers: MeshStats['breakers'] = {};
  for (const e of directory.status()) breakers[e.address] = e.breaker;
  return {
    peers: links.length,
    nodes: perNode,
    links: links.map((l) => ({
      instanceId: l.peerId,
      nodeId: l.nodeId,
      address: l.peer?.info?.address || l.address,
      rttMs: l.rttMs,
      queuedBytes: l.out.queuedBytes,
      full: l.out.full,
      readPaused: l.readPaused,
      peerDraining: l.peerDraining,
    })),
    reconnects: directory.reconnects,
    breakers,
    pausedLinks: links.filter((l) => l.readPaused).length,
    fullLinks: links.filter((l) => l.out.full).length,
  };
}

/** What `stats()` reads. */
export interface StatsSources {
  instanceId: string;
  counters: MemberCounters;
  handshaking: number;
  links: LinkTable;
  directory: PeerDirectory;
  deadLetters: DeadLetterRing;
  sequencer: Sequencer;
  localInterest: number;
}

/** `MeshMember.stats()`: a snapshot, copied so the caller cannot change the live counters. */
export function meshStats(s: StatsSources): MeshStats {
  return {
    ...s.counters,
    drops: { ...s.counters.drops },
    instanceId: s.instanceId,
    handshaking: s.handshaking,
    ...linkStats(s.links.list, s.links.traffic, s.directory),
    deadLetterSize: s.deadLetters.size,
    deadLetterTotal: s.deadLetters.total,
    creditsOutstanding: s.sequencer.creditsOutstanding,
    topics: s.sequencer.topics.size,
    ownedTopics: s.sequencer.topics.ownedCount(),
    localInterest: s.localInterest,
    sequencer: { ...s.sequencer.counters },
  };
}
