/**
 * The effective configuration of a node. Every value here has been validated (config/load.ts);
 * durations are milliseconds and sizes bytes, whatever unit the flag takes.
 */
export type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AuthConfig {
  /** 'none' = explicit anonymous mode (--no-auth): user_id is the connection id. */
  mode: 'jwt' | 'none';
  algorithm: JwtAlgorithm;
  /** HS256 shared secret (≥ 32 bytes). */
  secret: string | null;
  /** HS256 secret accepted during rotation (PROTOCOL.md §2). */
  previousSecret: string | null;
  /** RS256/ES256 public key, PEM text (the flag takes a path or the PEM itself). */
  publicKey: string | null;
  jwksUrl: string | null;
  issuer: string | null;
  audience: string | null;
  keyId: string | null;
  cookieName: string;
}

export interface LimitsConfig {
  maxConnections: number;
  maxMessageSize: number;
  /** 0 = unlimited (PROTOCOL.md §7). */
  maxSubscriptionsPerConnection: number;
  maxTopicLength: number;
  maxOutboundQueueBytes: number;
  maxInflightPublishes: number;
  maxPendingUpgrades: number;
  upgradeTimeoutMs: number;
  presenceMaxMembers: number;
  presenceMaxDataBytes: number;
}

export interface RecoveryConfig {
  /** Slots per topic ring, a power of two ≥ 16. */
  bufferSize: number;
  ttlMs: number;
  maxMessages: number;
  memoryBudgetBytes: number;
}

/** The member-to-member mesh (MESH.md; DESIGN.md, process model). */
export interface MeshConfig {
  host: string;
  /** Worker i listens on port + i. */
  port: number;
  /** `IP:port` peers dial for worker 0 (worker i: port + i); null = the listen address. */
  advertise: string | null;
  peers: string[];
  seeds: string[];
  clusterSecret: string | null;
  /** PEM texts; null = plaintext TCP (then a cluster secret should be set). */
  tls: { ca: string; cert: string; key: string } | null;
  compression: boolean;
}

export interface WseConfig {
  host: string;
  port: number;
  metricsPort: number;
  workers: number;
  nodeId: string;
  /** Generated dev secret + printed token; never for production. */
  dev: boolean;
  auth: AuthConfig;
  /** Key for /api/* (`Authorization: apikey <key>`); null disables the HTTP API. */
  apiKey: string | null;
  limits: LimitsConfig;
  rateLimit: { capacity: number; refillPerSecond: number };
  pingIntervalMs: number;
  idleTimeoutMs: number;
  recovery: RecoveryConfig;
  compressionThreshold: number;
  /** Worker-wide unwritten fan-out bytes above which publishers are paced (DESIGN.md, flow control). */
  fanoutBacklogBytes: number;
  presenceEnabled: boolean;
  /** HMAC key for message signing (PROTOCOL.md §14); null = no signing. */
  signingKey: string | null;
  mesh: MeshConfig;
  drainTimeoutMs: number;
  logLevel: LogLevel;
}
