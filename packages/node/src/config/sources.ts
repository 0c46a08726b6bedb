import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { SETTINGS, SETTING_KEYS, envName, flagName, type SettingKey } from './settings.js';

/** Raw setting values of one source, not yet validated. */
export type RawSettings = Partial<Record<SettingKey, unknown>>;

/**
 * `--config file.json`: one flat JSON object whose keys are the settings' camelCase names
 * (`{"port":5006,"jwtSecret":"…","noAuth":true,"recoveryMemoryBudget":"64MiB"}`). A null value
 * counts as absent; an unknown key is an error, so a typo cannot silently fall back to a default.
 */
export async function fileSettings(path: string): Promise<RawSettings> {
  let body: string;
  try {
    body = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('--config', path, `a readable JSON file (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new ConfigError('--config', path, `a JSON file (${(err as Error).message.split('\n')[0]})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('--config', path, 'a JSON object of settings');
  }
  const raw: RawSettings = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!Object.hasOwn(SETTINGS, key)) {
      throw new ConfigError('--config', path, `known keys only (camelCase flag names); "${key}" is not one`);
    }
    if (value !== null) raw[key as SettingKey] = value;
  }
  return raw;
}

/** `--config` or `WSE_CONFIG`; the flag wins. */
export function configPath(argv: Record<string, unknown>, env: NodeJS.ProcessEnv): string | undefined {
  const path = lastOf(argv.config) ?? (env.WSE_CONFIG || undefined);
  if (path !== undefined && (typeof path !== 'string' || path === '')) {
    throw new ConfigError('--config', path, 'a path to a JSON file');
  }
  return path;
}

/** `WSE_PORT`, `WSE_JWT_SECRET`, `WSE_NO_AUTH=1`, …; an empty variable counts as unset. */
export function envSettings(env: NodeJS.ProcessEnv): RawSettings {
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

/**
 * Flags actually given. yargs hands over camelCase and kebab-case forms; a repeated flag becomes
 * an array, of which the last wins. `--no-auth` arrives as `auth: false` (boolean negation).
 */
export function cliSettings(argv: Record<string, unknown>): RawSettings {
  const raw: RawSettings = {};
  for (const key of SETTING_KEYS) {
    const value = lastOf(argv[key] ?? argv[flagName(key)]);
    if (value !== undefined) raw[key] = value;
  }
  if (raw.noAuth === undefined && typeof argv.auth === 'boolean') raw.noAuth = !argv.auth;
  return raw;
}

function lastOf(value: unknown): unknown {
  return Array.isArray(value) ? value[value.length - 1] : value;
}
