import { signDevToken } from '../auth/dev-token.js';
import { KEY_REQUIRED } from '../config/auth-settings.js';
import { loadConfig, startOptions } from '../config/load.js';
import { integer } from '../config/parse.js';
import { ConfigError, WseError } from '../errors.js';

const DEFAULT_TTL_SECONDS = 3600;
const parseTtl = integer(1, 10 * 365 * 86400);
const NEEDS_SECRET = 'wse token signs with the HS256 secret: pass --jwt-secret, set WSE_JWT_SECRET or use --config';

const tokenOptions = {
  sub: { type: 'string', demandOption: true, describe: 'User id (the JWT sub)' },
  ttl: { type: 'string', describe: `Lifetime in seconds [default: ${DEFAULT_TTL_SECONDS}]` },
  claims: { type: 'string', describe: 'Extra claims as a JSON object, e.g. {"wse_publish":{"allow":["*"]}}' },
  config: startOptions.config!,
  'jwt-secret': startOptions['jwt-secret']!,
  'jwt-issuer': startOptions['jwt-issuer']!,
  'jwt-audience': startOptions['jwt-audience']!,
  'jwt-key-id': startOptions['jwt-key-id']!,
} as const;

/**
 * `wse token --sub alice [--ttl 3600] [--claims '{…}']`: prints one HS256 token on stdout, signed
 * with the secret, issuer, audience and key id the server itself would load (flags, `WSE_*`,
 * `--config`), so the token is accepted by `wse start` run with the same settings.
 */
export const tokenCommand = {
  command: 'token',
  describe: 'Print a signed HS256 token for development',
  builder: tokenOptions,
  handler: async (argv: Record<string, unknown>): Promise<void> => {
    try {
      process.stdout.write(`${await makeToken(argv, process.env)}\n`);
    } catch (err) {
      if (!(err instanceof WseError)) throw err;
      process.stderr.write(`wse token: ${err.message}\n`);
      process.exitCode = 2;
    }
  },
};

export async function makeToken(argv: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<string> {
  const sub = argv.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw new ConfigError('--sub', sub, 'a non-empty user id');
  const ttlSeconds = argv.ttl === undefined ? DEFAULT_TTL_SECONDS : parseTtl(argv.ttl, '--ttl');
  const claims = parseClaims(argv.claims);
  // A generated --dev secret would sign a token no running server accepts.
  const cfg = await loadConfig({ ...argv, dev: false }, env).catch((err: unknown) => {
    throw err instanceof ConfigError && err.message.endsWith(KEY_REQUIRED) ? new ConfigError('--jwt-secret', undefined, NEEDS_SECRET) : err;
  });
  const { secret, algorithm, issuer, audience, keyId } = cfg.auth;
  if (algorithm !== 'HS256') throw new ConfigError('--jwt-algorithm', algorithm, `HS256; ${NEEDS_SECRET}`);
  if (secret === null) throw new ConfigError('--jwt-secret', undefined, NEEDS_SECRET);
  return signDevToken(secret, { sub, ttlSeconds, claims, issuer, audience, keyId });
}

function parseClaims(raw: unknown): Record<string, unknown> {
  if (raw === undefined) return {};
  let value: unknown;
  try {
    value = JSON.parse(String(raw));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError('--claims', raw, 'a JSON object, e.g. {"wse_publish":{"allow":["*"]}}');
  }
  return value as Record<string, unknown>;
}
