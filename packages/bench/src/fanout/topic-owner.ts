import { randomBytes } from 'node:crypto';
import { BenchError } from '../errors.js';
import type { BenchNode, BenchTarget } from './target.js';

/**
 * Where the run's topic is sequenced (MESH.md E.a: its owner, picked by hashing the topic over the
 * members). With the owner on another node than the publisher, every `publish_ack` waits for a mesh
 * round trip, so in a cluster the placement decides the rate at low subscriber counts:
 * `any` takes the first random topic, `publisher` and `other` draw topics until the owner sits on the
 * publisher's node (the first) or on another one.
 */
export type TopicOwnerChoice = 'any' | 'publisher' | 'other';

export interface ChosenTopic {
  topic: string;
  /** The owner's node id; null for one node, or a cluster that does not say (no API key). */
  owner: string | null;
}

/** Topics drawn before giving up: each lands on a given one of n nodes with chance 1/n. */
const MAX_DRAWS = 64;
const INFO_TIMEOUT_MS = 5000;

export async function chooseTopic(target: BenchTarget, subscribers: number, want: TopicOwnerChoice): Promise<ChosenTopic> {
  for (let draw = 0; draw < MAX_DRAWS; draw++) {
    const topic = `fanout-${subscribers}-${randomBytes(4).toString('hex')}`;
    if (target.nodes.length < 2) return { topic, owner: null };
    const where = await placement(target.nodes[0]!, topic);
    if (want === 'any') return { topic, owner: where?.owner ?? null };
    if (where === null) {
      throw new BenchError('WSE_BENCH_ERR_USAGE', `--topic-owner ${want} needs WSE nodes whose HTTP API key the bench knows (spawned, or --api-key)`);
    }
    if (where.onAskedNode === (want === 'publisher')) return { topic, owner: where.owner };
  }
  throw new BenchError('WSE_BENCH_ERR_TOPIC', `no topic owned by the ${want === 'publisher' ? "publisher's node" : 'other nodes'} in ${MAX_DRAWS} draws`);
}

export interface Placement {
  /** The node id (`--node-id`) of the member that sequences the topic. */
  owner: string;
  /** That member is a worker of the node asked. */
  onAskedNode: boolean;
}

/** Where `topic` is sequenced, as `node`'s `GET /api/info?topic=` says; null when it does not say. */
export async function placement(node: BenchNode, topic: string): Promise<Placement | null> {
  if (node.apiKey === null) return null;
  const { host, port } = node.endpoint;
  let info: ApiInfo;
  try {
    const response = await fetch(`http://${host}:${port}/api/info?topic=${encodeURIComponent(topic)}`, {
      headers: { authorization: `ApiKey ${node.apiKey}` },
      signal: AbortSignal.timeout(INFO_TIMEOUT_MS),
    });
    if (response.status !== 200) return null;
    info = (await response.json()) as ApiInfo;
  } catch {
    return null;
  }
  if (typeof info.owner !== 'string' || typeof info.node_id !== 'string') return null;
  // The answering worker is not in its own member list.
  const owner = info.owner === info.mesh?.instance_id ? info.node_id : info.mesh?.members?.find((m) => m.instance_id === info.owner)?.node_id;
  return owner === undefined ? null : { owner, onAskedNode: owner === info.node_id };
}

/** The parts of `GET /api/info?topic=T` read here. */
interface ApiInfo {
  node_id?: unknown;
  owner?: unknown;
  mesh?: { instance_id?: string | null; members?: Array<{ instance_id: string; node_id: string }> };
}
