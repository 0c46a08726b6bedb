import { isIP } from 'node:net';
import { ConfigError } from '../errors.js';

/**
 * Value parsers for configuration settings. Each takes the raw value from any source (a JSON
 * number or boolean from the config file or library options, a string from the environment or the
 * command line) and returns the typed value or throws a one-line ConfigError naming the flag.
 */
export type Parser<T> = (raw: unknown, flag: string) => T;

const INTEGER = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kib|mib|gib)?$/i;
const UNIT: Record<string, number> = { b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };
const CONTROL = /[\u0000-\u001f\u007f]/;

export function integer(min: number, max: number): Parser<number> {
  return (raw, flag) => {
    const value = toNumber(raw, INTEGER);
    if (value === null || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(flag, raw, `an integer from ${min} to ${max}`);
    }
    return value;
  };
}

/** Plain or fractional number, e.g. a refill rate. */
export function decimal(min: number, max: number): Parser<number> {
  return (raw, flag) => {
    const value = toNumber(raw, DECIMAL);
    if (value === null || value < min || value > max) {
      throw new ConfigError(flag, raw, `a number from ${min} to ${max}`);
    }
    return value;
  };
}

/** Seconds (fractions allowed) in, milliseconds out. */
export function seconds(minSeconds: number, maxSeconds: number): Parser<number> {
  return (raw, flag) => {
    const value = toNumber(raw, DECIMAL);
    if (value === null || value < minSeconds || value > maxSeconds) {
      throw new ConfigError(flag, raw, `seconds from ${minSeconds} to ${maxSeconds}`);
    }
    return Math.round(value * 1000);
  };
}

/** Bytes, as a plain integer or with a KiB/MiB/GiB suffix (`256MiB`, `1.5 KiB`). */
export function size(min: number, max: number): Parser<number> {
  return (raw, flag) => {
    const value = parseSize(raw);
    if (value === null || value < min || value > max) {
      throw new ConfigError(flag, raw, `bytes from ${min} to ${max} (plain, or with a KiB/MiB/GiB suffix)`);
    }
    return value;
  };
}

export const boolean: Parser<boolean> = (raw, flag) => {
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'number' && (raw === 0 || raw === 1)) return raw === 1;
  if (typeof raw === 'string') {
    const text = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(text)) return true;
    if (['0', 'false', 'no', 'off'].includes(text)) return false;
  }
  throw new ConfigError(flag, raw, 'true or false (also 1/0, yes/no, on/off)');
};

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw, flag) => {
    if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
    throw new ConfigError(flag, raw, `one of ${values.join(', ')}`);
  };
}

/** A non-empty string without control characters, optionally matching `pattern`. */
export function text(allowed = 'a non-empty string', pattern?: RegExp): Parser<string> {
  return (raw, flag) => {
    if (typeof raw !== 'string' || raw.length === 0 || CONTROL.test(raw) || (pattern && !pattern.test(raw))) {
      throw new ConfigError(flag, raw, allowed);
    }
    return raw;
  };
}

/** A secret: at least `minBytes` bytes of UTF-8. The value itself never appears in the error. */
export function secret(minBytes: number): Parser<string> {
  return (raw, flag) => {
    if (typeof raw !== 'string' || Buffer.byteLength(raw) < minBytes) {
      const shown = typeof raw === 'string' ? `<${Buffer.byteLength(raw)} bytes>` : raw;
      throw new ConfigError(flag, shown, `a secret of at least ${minBytes} bytes`);
    }
    return raw;
  };
}

function toNumber(raw: unknown, shape: RegExp): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : null;
  if (typeof raw === 'string' && shape.test(raw.trim())) return Number(raw.trim());
  return null;
}

function parseSize(raw: unknown): number | null {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : null;
  if (typeof raw !== 'string') return null;
  const match = SIZE.exec(raw.trim());
  if (!match) return null;
  const unit = (match[2] ?? 'b').toLowerCase();
  const bytes = Number(match[1]) * UNIT[unit]!;
  if (Number.isInteger(bytes)) return bytes;
  return unit === 'b' ? null : Math.floor(bytes);
}

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** `host:port` (a name, an IPv4 address or a bracketed IPv6 address). */
export const hostPort: Parser<string> = (raw, flag) => {
  const value = typeof raw === 'string' ? raw.trim() : raw;
  const match = typeof value === 'string' ? HOST_PORT.exec(value) : null;
  const port = match === null ? 0 : Number(match[1]);
  if (match === null || port < 1 || port > 65535) throw new ConfigError(flag, raw, 'host:port with a port from 1 to 65535');
  return value as string;
};

/**
 * The address a mesh member advertises: gossip passes on only literal `IP:port` (MESH.md §9), and
 * a wildcard would make every receiver dial itself.
 */
export const dialableIpPort: Parser<string> = (raw, flag) => {
  const value = hostPort(raw, flag);
  const host = value.slice(0, value.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (isIP(host) === 0 || host === '0.0.0.0' || /^[0:]+$/.test(host)) {
    throw new ConfigError(flag, raw, 'a literal IP:port other members can dial (not a host name, 0.0.0.0 or ::)');
  }
  return value;
};

/** A comma-separated list of `host:port` (an array in a config file). */
export const hostPortList: Parser<string[]> = (raw, flag) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (items === null) throw new ConfigError(flag, raw, 'a comma-separated list of host:port');
  return items.map((item) => (typeof item === 'string' ? item.trim() : item)).filter((item) => item !== '').map((item) => hostPort(item, flag));
};
