import { MeshError } from './errors.js';
import type { TlsMaterial } from './link/transport.js';

/** pino-compatible; every method optional in practice but all four are called. */
export interface MeshLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Protocol timings and limits; defaults are the spec's. Tests shorten the timings. */
export interface MeshTuning {
  pingIntervalMs: number;
  deadAfterMs: number;
  resyncIntervalMs: number;
  connectTimeoutMs: number;
  helloTimeoutMs: number;
  backoffInitialMs: number;
  backoffFactor: number;
  backoffMaxMs: number;
  breakerThreshold: number;
  breakerOpenMs: number;
  breakerProbes: number;
  tiebreakHoldMs: number;
  /** How long a claim waits for this member's view of the mesh to settle (§E.a, SettledView). */
  claimSettleMs: number;
  claimTimeoutMs: number;
  bounceRetryMs: number;
  handoverTtlMs: number;
  highWaterBytes: number;
  lowWaterBytes: number;
  /** Unwritten bytes at which a link whose peer does not read is closed (control frames included). */
  hardLimitBytes: number;
  creditFrames: number;
  creditBytes: number;
  creditFlushMs: number;
  maxTopics: number;
  deadLetterSize: number;
  maxPeers: number;
  maxPendingAccepts: number;
}

export const DEFAULT_TUNING: MeshTuning = {
  pingIntervalMs: 5_000, // §5
  deadAfterMs: 15_000,
  resyncIntervalMs: 60_000,
  connectTimeoutMs: 5_000, // §1
  helloTimeoutMs: 5_000,
  backoffInitialMs: 1_000, // §11
  backoffFactor: 1.5,
  backoffMaxMs: 60_000,
  breakerThreshold: 10,
  breakerOpenMs: 60_000,
  breakerProbes: 3,
  tiebreakHoldMs: 30_000, // §E.c
  // A first dial to a dead address fails within the TCP connect timeout (§1).
  claimSettleMs: 5_000,
  claimTimeoutMs: 1_000, // §E.a
  bounceRetryMs: 50,
  handoverTtlMs: 10_000,
  highWaterBytes: 8 * 1024 * 1024, // §E.b
  lowWaterBytes: 4 * 1024 * 1024,
  hardLimitBytes: 64 * 1024 * 1024,
  creditFrames: 1_024,
  creditBytes: 4 * 1024 * 1024,
  creditFlushMs: 10,
  maxTopics: 100_000,
  deadLetterSize: 1_000, // §11
  maxPeers: 256, // §1
  maxPendingAccepts: 128,
};

export interface MeshMemberOptions {
  /** Default: a fresh UUIDv7. */
  instanceId?: string;
  nodeId: string;
  workerIndex: number;
  workerCount: number;
  /** The listener binds with `exclusive: true` (node:cluster workers). Port 0 picks a free port. */
  listen: { host: string; port: number };
  /** `IP:port` peers should dial; default derived from `listen`. */
  advertise?: string;
  /** Static peers: kept and redialled forever. */
  peers?: string[];
  /** Gossip seeds: dialled like static peers; everything else is learned from them. */
  seeds?: string[];
  clusterSecret?: string;
  tls?: TlsMaterial;
  /** Sequencing (§E.a) needs recovery; without it publishes go out unstamped (§7). */
  recovery: boolean;
  compression?: boolean;
  presence?: boolean;
  logger?: MeshLogger;
  tuning?: Partial<MeshTuning>;
}

export function checkOptions(o: MeshMemberOptions): void {
  const bad = (setting: string, allowed: string): never => {
    throw new MeshError('WSE_ERR_MESH_CONFIG', `invalid mesh setting ${setting}: ${allowed}`, { setting });
  };
  if (typeof o.nodeId !== 'string' || o.nodeId.length === 0 || Buffer.byteLength(o.nodeId) > 256) bad('nodeId', '1..256 bytes');
  if (!Number.isInteger(o.workerCount) || o.workerCount < 1 || o.workerCount > 65535) bad('workerCount', 'integer 1..65535');
  if (!Number.isInteger(o.workerIndex) || o.workerIndex < 0 || o.workerIndex >= o.workerCount) bad('workerIndex', '0..workerCount-1');
  if (!Number.isInteger(o.listen?.port) || o.listen.port < 0 || o.listen.port > 65535) bad('listen.port', '0..65535');
  if (o.instanceId !== undefined && (o.instanceId.length === 0 || Buffer.byteLength(o.instanceId) > 256)) bad('instanceId', '1..256 bytes');
  if (o.clusterSecret !== undefined && o.clusterSecret.length === 0) bad('clusterSecret', 'non-empty');
}
