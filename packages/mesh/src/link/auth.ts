import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeU64LE } from '../frame/encoder.js';

/** MESH.md §E.d: a HELLO's proof of the cluster secret is valid for 60 s either side of now. */
export const AUTH_WINDOW_MS = 60_000;

export function helloMac(secret: string, instanceId: string, nodeId: string, tsMs: number): Buffer {
  const ts = Buffer.allocUnsafe(8);
  writeU64LE(ts, 0, tsMs);
  return createHmac('sha256', secret)
    .update(`WSE-MESH-AUTH\0${instanceId}\0${nodeId}\0`, 'utf8')
    .update(ts)
    .digest();
}

export function verifyMac(
  secret: string,
  instanceId: string,
  nodeId: string,
  tsMs: number,
  mac: Buffer,
  nowMs: number,
): boolean {
  if (Math.abs(nowMs - tsMs) > AUTH_WINDOW_MS) return false;
  const expected = helloMac(secret, instanceId, nodeId, tsMs);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}
