/** What the sequencer counts (MeshStats.sequencer). */
export interface SequencerCounters {
  sequenced: number;
  publishesSent: number;
  publishesReceived: number;
  rejectedSent: number;
  rejectedReceived: number;
  bouncesSent: number;
  bouncesReceived: number;
  claims: number;
  claimSettleTimeouts: number;
  claimTimeouts: number;
  newEpochs: number;
  continuedHandovers: number;
  resent: number;
  droppedOriginGone: number;
}

export function newSequencerCounters(): SequencerCounters {
  return {
    sequenced: 0,
    publishesSent: 0,
    publishesReceived: 0,
    rejectedSent: 0,
    rejectedReceived: 0,
    bouncesSent: 0,
    bouncesReceived: 0,
    claims: 0,
    claimSettleTimeouts: 0,
    claimTimeouts: 0,
    newEpochs: 0,
    continuedHandovers: 0,
    resent: 0,
    droppedOriginGone: 0,
  };
}
