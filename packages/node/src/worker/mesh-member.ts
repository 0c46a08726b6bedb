import { networkInterfaces } from 'node:os';
import { MeshMember } from '@wse/mesh';
import type { WseConfig } from '../config/types.js';
import type { Logger } from '../log.js';

/**
 * A node is clustered when it has several workers, knows other nodes, or is set up to be joined
 * (a cluster secret, mTLS or an advertised address); then every worker is a mesh member
 * (MESH.md E.c). A lone worker with none of these sequences its topics itself, without a mesh port.
 */
export function isClustered(config: WseConfig): boolean {
  const { mesh } = config;
  return config.workers > 1 || mesh.peers.length > 0 || mesh.seeds.length > 0 || mesh.clusterSecret !== null || mesh.tls !== null || mesh.advertise !== null;
}

/**
 * Worker `index` listens on mesh-port + index and dials its siblings over loopback (the same
 * protocol as the remote hop, DESIGN.md); other nodes come from --peers and --seeds.
 */
export function createMeshMember(config: WseConfig, index: number, logger: Logger): MeshMember {
  const { mesh } = config;
  const siblingHost = isWildcard(mesh.host) ? '127.0.0.1' : mesh.host;
  const siblings: string[] = [];
  for (let j = 0; j < config.workers; j++) if (j !== index) siblings.push(`${siblingHost}:${mesh.port + j}`);
  return new MeshMember({
    nodeId: config.nodeId,
    workerIndex: index,
    workerCount: config.workers,
    listen: { host: mesh.host, port: mesh.port + index },
    advertise: advertisedAddress(config, index),
    peers: [...siblings, ...mesh.peers],
    seeds: mesh.seeds,
    ...(mesh.clusterSecret === null ? {} : { clusterSecret: mesh.clusterSecret }),
    ...(mesh.tls === null ? {} : { tls: mesh.tls }),
    recovery: true,
    compression: mesh.compression,
    presence: config.presenceEnabled,
    logger: logger.child({ component: 'mesh' }),
  });
}

/** MESH.md E.c: a literal `IP:port` peers can dial; worker i adds i to the port. */
function advertisedAddress(config: WseConfig, index: number): string {
  const { mesh } = config;
  if (mesh.advertise !== null) {
    const at = mesh.advertise.lastIndexOf(':');
    return `${mesh.advertise.slice(0, at)}:${Number(mesh.advertise.slice(at + 1)) + index}`;
  }
  const host = isWildcard(mesh.host) ? firstExternalIPv4() ?? '127.0.0.1' : mesh.host;
  return `${host}:${mesh.port + index}`;
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

function firstExternalIPv4(): string | null {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return null;
}
