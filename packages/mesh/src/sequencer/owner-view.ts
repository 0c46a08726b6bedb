import type { MeshLink } from '../link/mesh-link.js';
import type { SequencerHost } from './host.js';
import { pickOwner } from './rendezvous.js';
import type { TopicState } from './topic-state.js';

/**
 * §E.a owner choice over this member's current candidates, and §6 fan-out targets, each cached on
 * the topic until the member's view (or routing) generation moves.
 */
export class OwnerView {
  constructor(private readonly host: SequencerHost) {}

  get selfId(): string {
    return this.host.selfId;
  }

  /** The owner of a topic that has no state here. */
  compute(topic: string): string {
    return pickOwner(topic, this.host.candidates());
  }

  ownerOf(ts: TopicState): string {
    const gen = this.host.viewGen();
    if (ts.ownerGen !== gen) {
      ts.owner = this.compute(ts.name);
      ts.ownerGen = gen;
    }
    return ts.owner;
  }

  ownedHere(ts: TopicState): boolean {
    return this.ownerOf(ts) === this.host.selfId;
  }

  targets(ts: TopicState): MeshLink[] {
    const gen = this.host.routeGen();
    if (ts.targetsGen !== gen) {
      ts.targets = this.host.fanoutTargets(ts.name);
      ts.targetsGen = gen;
    }
    return ts.targets;
  }

  /** A target link is above its high-water mark (§E.b.2): sequencing T would have to wait. */
  targetsFull(ts: TopicState): boolean {
    const targets = this.targets(ts);
    for (let i = 0; i < targets.length; i++) if (targets[i]!.out.full) return true;
    return false;
  }
}
