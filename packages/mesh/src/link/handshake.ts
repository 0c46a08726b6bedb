import { Cap, PROTOCOL_VERSION } from '../frame/constants.js';
import { HelloRefusal, type Hello } from '../frame/payloads.js';
import { helloMac, verifyMac } from './auth.js';

/** Who this member is, as HELLO tells it (§3, §E.c, §E.d). */
export interface LocalIdentity {
  instanceId: string;
  nodeId: string;
  workerIndex: number;
  workerCount: number;
  address: string;
  caps: number;
  secret: string | null;
}

export function buildHello(local: LocalIdentity, nowMs: number, refusal: number = HelloRefusal.NONE): Hello {
  return {
    version: PROTOCOL_VERSION,
    instanceId: local.instanceId,
    caps: local.caps,
    info: {
      nodeId: local.nodeId,
      workerIndex: local.workerIndex,
      workerCount: local.workerCount,
      address: local.address,
    },
    auth:
      local.secret === null
        ? null
        : { tsMs: nowMs, mac: helloMac(local.secret, local.instanceId, local.nodeId, nowMs) },
    ...(refusal === HelloRefusal.NONE ? {} : { refusal }),
  };
}

export type HelloVerdict = 'ok' | 'version' | 'auth';

/** §4 check 1 (version) and §E.d (the secret is not negotiated down). */
export function verifyHello(local: LocalIdentity, hello: Hello, nowMs: number): HelloVerdict {
  if (Math.min(PROTOCOL_VERSION, hello.version) < 1) return 'version';
  if (local.secret !== null) {
    if (hello.auth === null || (hello.caps & Cap.AUTH) === 0) return 'auth';
    const nodeId = hello.info?.nodeId ?? '';
    if (!verifyMac(local.secret, hello.instanceId, nodeId, hello.auth.tsMs, hello.auth.mac, nowMs)) return 'auth';
  }
  return 'ok';
}

/** §4 check 2: a link survives only if the dialer's id is byte-wise lower; equal ids fail. */
export function dialerWins(dialerId: string, acceptorId: string): boolean {
  return Buffer.compare(Buffer.from(dialerId, 'utf8'), Buffer.from(acceptorId, 'utf8')) < 0;
}
