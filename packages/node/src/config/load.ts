import { randomBytes } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { ConfigError } from '../errors.js';
import { resolveAuth } from './auth-settings.js';
import { resolveMesh } from './mesh-settings.js';
import { SETTINGS, SETTING_KEYS, flagName, type SettingValues } from './settings.js';
import { cliSettings, configPath, envSettings, fileSettings, type RawSettings } from './sources.js';
import type { WseConfig } from './types.js';

/** A yargs option definition (structurally `yargs.Options`). */
export interface StartOption {
  type: 'string' | 'boolean';
  describe: string;
}

/**
 * Options of `wse start`. None has a yargs default: the defaults live in SETTINGS, so a flag
 * absent from the command line never hides the environment or the config file.
 */
export const startOptions: Record<string, StartOption> = buildStartOptions();

function buildStartOptions(): Record<string, StartOption> {
  const options: Record<string, StartOption> = {
    config: { type: 'string', describe: 'JSON file of settings (keys: camelCase flag names)' },
    'print-config': { type: 'boolean', describe: 'Print the effective configuration (secrets redacted) and exit' },
  };
  for (const key of SETTING_KEYS) {
    const { type, describe } = SETTINGS[key];
    // `--no-auth` is yargs' negation of `--auth`; the option must be declared under that name.
    options[key === 'noAuth' ? 'auth' : flagName(key)] = { type, describe };
  }
  return options;
}

/**
 * The effective configuration. Sources, later wins: defaults < `--config` file < `WSE_*`
 * environment < command-line flags (DESIGN.md "Configuration"). Throws ConfigError, one line.
 */
export async function loadConfig(argv: Record<string, unknown>, env: NodeJS.ProcessEnv, generated: GeneratedSecrets = NONE_GENERATED): Promise<WseConfig> {
  const path = configPath(argv, env);
  const file = path === undefined ? {} : await fileSettings(path);
  return assemble(parseAll({ ...file, ...envSettings(env), ...cliSettings(argv) }), generated);
}

/** What `--dev` generated for a running node; a reload keeps them, so printed tokens stay valid. */
export interface GeneratedSecrets {
  jwtSecret: string | null;
  apiKey: string | null;
}

const NONE_GENERATED: GeneratedSecrets = { jwtSecret: null, apiKey: null };

function parseAll(raw: RawSettings): SettingValues {
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const value = raw[key];
    values[key] = value === undefined ? SETTINGS[key].fallback : SETTINGS[key].parse(value, `--${flagName(key)}`);
  }
  return values as SettingValues;
}

async function assemble(v: SettingValues, generated: GeneratedSecrets): Promise<WseConfig> {
  checkCrossRules(v);
  const workers = v.workers === 'auto' ? availableParallelism() : v.workers;
  return {
    host: v.host,
    port: v.port,
    metricsPort: metricsPort(v),
    workers,
    nodeId: v.nodeId ?? hostname(),
    dev: v.dev,
    auth: await resolveAuth(v, generated.jwtSecret),
    apiKey: v.apiKey ?? (v.dev ? generated.apiKey ?? randomBytes(24).toString('hex') : null),
    limits: {
      maxConnections: v.maxConnections,
      maxMessageSize: v.maxMessageSize,
      maxSubscriptionsPerConnection: v.maxSubscriptionsPerConnection,
      maxTopicLength: v.maxTopicLength,
      maxOutboundQueueBytes: v.maxOutboundQueueBytes,
      maxInflightPublishes: v.maxInflightPublishes,
      maxPendingUpgrades: v.maxPendingUpgrades,
      upgradeTimeoutMs: v.upgradeTimeout,
      presenceMaxMembers: v.presenceMaxMembers,
      presenceMaxDataBytes: v.presenceMaxDataBytes,
    },
    rateLimit: { capacity: v.rateLimitCapacity, refillPerSecond: v.rateLimitRefill },
    pingIntervalMs: v.pingInterval,
    idleTimeoutMs: v.idleTimeout,
    recovery: {
      // PROTOCOL.md §16: ring slots are a power of two.
      bufferSize: 2 ** Math.ceil(Math.log2(v.recoveryBufferSize)),
      ttlMs: v.recoveryTtl,
      maxMessages: v.recoveryMaxMessages,
      memoryBudgetBytes: v.recoveryMemoryBudget,
    },
    compressionThreshold: v.compressionThreshold,
    fanoutBacklogBytes: v.fanoutBacklogBytes,
    presenceEnabled: v.presence,
    signingKey: v.signingKey,
    mesh: await resolveMesh(v, workers),
    drainTimeoutMs: v.drainTimeout,
    logLevel: v.logLevel,
  };
}

function checkCrossRules(v: SettingValues): void {
  if (v.idleTimeout <= v.pingInterval) {
    throw new ConfigError('--idle-timeout', v.idleTimeout / 1000, `more seconds than --ping-interval (${v.pingInterval / 1000})`);
  }
  if (v.maxOutboundQueueBytes < v.maxMessageSize) {
    throw new ConfigError('--max-outbound-queue-bytes', v.maxOutboundQueueBytes, `at least --max-message-size (${v.maxMessageSize})`);
  }
}

function metricsPort(v: SettingValues): number {
  const port = v.metricsPort ?? v.port + 1000;
  if (port > 65535) throw new ConfigError('--metrics-port', port, `a port up to 65535; set it when --port is above 64535`);
  if (port === v.port) throw new ConfigError('--metrics-port', port, `a port other than --port (${v.port})`);
  return port;
}

/** `--print-config`: the effective configuration with every secret replaced by "<redacted>". */
export function redactConfig(cfg: WseConfig): object {
  const hide = (value: string | null): string | null => (value === null ? null : '<redacted>');
  return {
    ...cfg,
    auth: { ...cfg.auth, secret: hide(cfg.auth.secret), previousSecret: hide(cfg.auth.previousSecret) },
    apiKey: hide(cfg.apiKey),
    signingKey: hide(cfg.signingKey),
    mesh: { ...cfg.mesh, clusterSecret: hide(cfg.mesh.clusterSecret), tls: cfg.mesh.tls === null ? null : { ...cfg.mesh.tls, key: '<redacted>' } },
  };
}
