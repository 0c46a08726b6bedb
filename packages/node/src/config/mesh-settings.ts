import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { MeshConfig } from './types.js';
import type { SettingValues } from './settings.js';

/** The mesh block of the configuration; mTLS needs its three PEMs together (MESH.md §11). */
export async function resolveMesh(v: SettingValues, workers: number): Promise<MeshConfig> {
  const tlsGiven = [v.meshTlsCa, v.meshTlsCert, v.meshTlsKey].filter((value) => value !== null).length;
  if (tlsGiven !== 0 && tlsGiven !== 3) {
    const missing = v.meshTlsCa === null ? '--mesh-tls-ca' : v.meshTlsCert === null ? '--mesh-tls-cert' : '--mesh-tls-key';
    throw new ConfigError(missing, '(unset)', 'set together with the other --mesh-tls-* settings');
  }
  if (v.meshPort + workers - 1 > 65535) {
    throw new ConfigError('--mesh-port', v.meshPort, `a port that leaves room for ${workers} workers (mesh-port + i)`);
  }
  return {
    host: v.meshHost ?? v.host,
    port: v.meshPort,
    advertise: v.meshAdvertise,
    peers: v.peers,
    seeds: v.seeds,
    clusterSecret: v.clusterSecret,
    tls:
      tlsGiven === 3
        ? {
            ca: await pem(v.meshTlsCa as string, '--mesh-tls-ca', 'CERTIFICATE'),
            cert: await pem(v.meshTlsCert as string, '--mesh-tls-cert', 'CERTIFICATE'),
            key: await pem(v.meshTlsKey as string, '--mesh-tls-key', 'PRIVATE KEY'),
          }
        : null,
    compression: v.meshCompression,
  };
}

/** A PEM given inline (with real or `\n` line breaks) or as a file path. */
async function pem(value: string, flag: string, label: string): Promise<string> {
  let text = value.replace(/\\n/g, '\n');
  if (!text.includes('-----BEGIN')) {
    try {
      text = await readFile(value, 'utf8');
    } catch (error) {
      throw new ConfigError(flag, value, `a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
  }
  if (!text.includes(label)) throw new ConfigError(flag, value.includes('-----BEGIN') ? '<PEM text>' : value, `a PEM ${label}`);
  return text;
}
