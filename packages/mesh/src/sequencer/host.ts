import type { MeshLink } from '../link/mesh-link.js';

/** What the sequencer needs from the member it runs in. */
export interface SequencerHost {
  readonly selfId: string;
  /** Bumped whenever the candidate set changes. */
  viewGen(): number;
  /** Bumped whenever a link opens/closes or a peer's interest changes. */
  routeGen(): number;
  /** Instance ids of the current candidates, this member included when it is one. */
  candidates(): string[];
  /** Open links to the other candidates. */
  candidateLinks(): MeshLink[];
  /** This member's view of the mesh has settled (membership/settled-view.ts). */
  membershipSettled(): boolean;
  linkTo(instanceId: string): MeshLink | undefined;
  /** Open links that want MSGs for `topic` (§6 forwarding decision). */
  fanoutTargets(topic: string): MeshLink[];
  /** Whether `deliver` has a consumer; without one no Buffer of the stamped message is built. */
  deliversLocally(): boolean;
  deliver(topic: string, stamped: Buffer, epoch: number, offset: number, origin: string): void;
}

export interface SequencerSettings {
  claimSettleMs: number;
  claimTimeoutMs: number;
  bounceRetryMs: number;
  handoverTtlMs: number;
  creditFrames: number;
  creditBytes: number;
  creditFlushMs: number;
  maxTopics: number;
}
