import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port` or `[v6]:port`; null when malformed. */
export function parseAddress(address: string): HostPort | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(address) ?? /^([^:[\]]+):(\d{1,5})$/.exec(address);
  if (m === null) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1]!, port };
}

/** MESH.md §9: gossip only accepts a literal `IP:port`. */
export function isLiteralAddress(address: string): boolean {
  const hp = parseAddress(address);
  return hp !== null && isIP(hp.host) !== 0;
}

export function formatAddress(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Default advertised host: the listen host, or the first external IPv4 when listening on any. */
export function advertiseHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::' && host !== '') return host;
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
