import type { WorkerHealth } from './messages.js';

/** One mesh member as this node sees it, its workers' links to it combined. */
export interface ClusterMember {
  instance_id: string;
  node_id: string;
  worker_index: number;
  address: string;
  state: string;
  /** How many of this node's workers have a link to it. */
  links: number;
  /** How many should: every worker of this node but the member itself. */
  expected_links: number;
}

/** An address some worker knows but has not reached (a peer that is down, or not yet dialed). */
export interface UnreachedAddress {
  address: string;
  state: string;
}

export interface ClusterView {
  members: ClusterMember[];
  unreached: UnreachedAddress[];
  /** Every worker of this node links every member of the mesh. */
  full_mesh: boolean;
}

/**
 * The mesh as one list from this node's workers' views (each worker is a member and lists the
 * others): this node's own workers first, each member once, and the addresses none has reached.
 */
export function clusterView(nodeId: string, workers: readonly WorkerHealth[]): ClusterView {
  const meshWorkers = workers.filter((w) => w.mesh !== null);
  const members = new Map<string, ClusterMember>();
  for (const w of meshWorkers) {
    const mesh = w.mesh!;
    members.set(mesh.instance_id, {
      instance_id: mesh.instance_id,
      node_id: nodeId,
      worker_index: w.index,
      address: mesh.address,
      state: w.draining ? 'draining' : 'up',
      links: 0,
      expected_links: meshWorkers.length - 1,
    });
  }
  const unreached = new Map<string, UnreachedAddress>();
  for (const row of meshWorkers.flatMap((w) => w.mesh!.members)) {
    if (!row.connected) {
      unreached.set(row.address, { address: row.address, state: row.state });
      continue;
    }
    const member = members.get(row.instance_id) ?? {
      instance_id: row.instance_id,
      node_id: row.node_id,
      worker_index: row.worker_index,
      address: row.address,
      state: row.state,
      links: 0,
      expected_links: meshWorkers.length,
    };
    member.links++;
    members.set(row.instance_id, member);
  }
  for (const member of members.values()) unreached.delete(member.address);
  const list = [...members.values()];
  return { members: list, unreached: [...unreached.values()], full_mesh: list.every((m) => m.links >= m.expected_links) };
}
