import type { TrafficCounters } from './link/mesh-link.js';
import type { BreakerState } from './membership/circuit-breaker.js';
import type { SequencerCounters } from './sequencer/counters.js';

/** Why a frame was not delivered or not sent. */
export type DropReason = 'link-closed' | 'unknown-type' | 'oversize' | 'deliver-error' | 'resync-skipped';

/** Member-wide counters; plain numbers the server turns into prom-client metrics. */
/** §E.f: how this member's fetches ended (filled: some member held the range; empty: none did). */
export type RangeFetchOutcome = 'filled' | 'empty' | 'timeout' | 'no-peer' | 'busy';

export interface MemberCounters {
  drops: Record<DropReason, number>;
  rangeFetches: Record<RangeFetchOutcome, number>;
  /** §E.f requests this member answered, by whether its rings held the range. */
  rangeRequests: Record<'held' | 'not-held', number>;
  badFrames: number;
  handshakeFailures: number;
  authFailures: number;
  tlsFailures: number;
  deadPeers: number;
  acceptsRefused: number;
  linksOpened: number;
  linksClosed: number;
}

export function newMemberCounters(): MemberCounters {
  return {
    drops: { 'link-closed': 0, 'unknown-type': 0, oversize: 0, 'deliver-error': 0, 'resync-skipped': 0 },
    rangeFetches: { filled: 0, empty: 0, timeout: 0, 'no-peer': 0, busy: 0 },
    rangeRequests: { held: 0, 'not-held': 0 },
    badFrames: 0,
    handshakeFailures: 0,
    authFailures: 0,
    tlsFailures: 0,
    deadPeers: 0,
    acceptsRefused: 0,
    linksOpened: 0,
    linksClosed: 0,
  };
}

export interface LinkStats {
  instanceId: string;
  nodeId: string;
  address: string;
  rttMs: number;
  queuedBytes: number;
  full: boolean;
  readPaused: boolean;
  peerDraining: boolean;
}

/** What `MeshMember.stats()` returns. */
export interface MeshStats extends MemberCounters {
  instanceId: string;
  peers: number;
  handshaking: number;
  /** Frames and bytes in/out per peer node id (accumulated over the member's life). */
  nodes: Record<string, TrafficCounters>;
  links: LinkStats[];
  reconnects: number;
  breakers: Record<string, BreakerState>;
  deadLetterSize: number;
  deadLetterTotal: number;
  pausedLinks: number;
  fullLinks: number;
  creditsOutstanding: number;
  topics: number;
  /** Topics this member is the owner (sequencer) of. */
  ownedTopics: number;
  localInterest: number;
  sequencer: SequencerCounters;
}
