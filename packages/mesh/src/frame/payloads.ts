import { isUtf8 } from 'node:buffer';
import { copyUtf8 } from './bytes.js';
import { HELLO_MAGIC, MAX_CID_LEN, MAX_ID_LEN, MAX_PEER_LIST } from './constants.js';
import { readU64LE, writeU64LE } from './encoder.js';

/** Payload codecs of MESH.md §3, §9, §10 and §E. Decoders return null for malformed input. */

export interface MemberInfo {
  nodeId: string;
  workerIndex: number;
  workerCount: number;
  address: string;
}

export interface HelloAuth {
  tsMs: number;
  mac: Buffer;
}

/** Why an acceptor's HELLO answers a link it closes (docs/MESH-EXTENSIONS.md); 0 in every other HELLO. */
export const HelloRefusal = { NONE: 0, DUPLICATE: 1 } as const;

export interface Hello {
  version: number;
  instanceId: string;
  caps: number;
  info: MemberInfo | null;
  auth: HelloAuth | null;
  /** A byte after the §E.c (and §E.d) blocks, only in a refusing acceptor's HELLO; absent = NONE. */
  refusal?: number;
}

export type HelloDecode = Hello | 'bad-magic' | 'truncated';

function utf8(b: Buffer, start: number, len: number): string | null {
  const view = b.subarray(start, start + len);
  return isUtf8(view) ? view.toString('utf8') : null;
}

function lenPrefixed(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16LE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** HELLO, §3 with the §E.c extension block and the §E.d auth block. */
export function encodeHello(h: Hello): Buffer {
  const head = Buffer.allocUnsafe(6);
  head.writeUInt32LE(HELLO_MAGIC, 0);
  head.writeUInt16LE(h.version, 4);
  const caps = Buffer.allocUnsafe(4);
  caps.writeUInt32LE(h.caps >>> 0, 0);
  const parts = [head, lenPrefixed(h.instanceId), caps];
  if (h.info !== null) {
    const nums = Buffer.allocUnsafe(4);
    nums.writeUInt16LE(h.info.workerIndex, 0);
    nums.writeUInt16LE(h.info.workerCount, 2);
    parts.push(lenPrefixed(h.info.nodeId), nums, lenPrefixed(h.info.address));
  }
  if (h.auth !== null) {
    const ts = Buffer.allocUnsafe(8);
    writeU64LE(ts, 0, h.auth.tsMs);
    parts.push(ts, h.auth.mac);
  }
  if (h.info !== null && h.refusal !== undefined && h.refusal !== HelloRefusal.NONE) parts.push(Buffer.from([h.refusal]));
  return Buffer.concat(parts);
}

export function decodeHello(p: Buffer, memberInfoBit: number, authBit: number): HelloDecode {
  if (p.length < 4 || p.readUInt32LE(0) !== HELLO_MAGIC) return 'bad-magic';
  if (p.length < 12) return 'truncated';
  const version = p.readUInt16LE(4);
  const idLen = p.readUInt16LE(6);
  if (idLen > MAX_ID_LEN || p.length < 12 + idLen) return 'truncated';
  const instanceId = utf8(p, 8, idLen);
  if (instanceId === null) return 'truncated';
  const caps = p.readUInt32LE(8 + idLen);
  let at = 12 + idLen;
  let info: MemberInfo | null = null;
  let auth: HelloAuth | null = null;
  let refusal: number = HelloRefusal.NONE;
  if ((caps & memberInfoBit) !== 0) {
    const parsed = decodeMemberInfo(p, at);
    if (parsed !== null) {
      info = parsed.info;
      at = parsed.end;
      if ((caps & authBit) !== 0 && p.length >= at + 40) {
        auth = { tsMs: readU64LE(p, at), mac: Buffer.from(p.subarray(at + 8, at + 40)) };
        at += 40;
      }
      if (p.length > at && ((caps & authBit) === 0 || auth !== null)) refusal = p[at]!;
    }
  }
  return { version, instanceId, caps, info, auth, ...(refusal === HelloRefusal.NONE ? {} : { refusal }) };
}

/** §E.c: a truncated block is ignored (null). */
function decodeMemberInfo(p: Buffer, at: number): { info: MemberInfo; end: number } | null {
  if (p.length < at + 2) return null;
  const nodeLen = p.readUInt16LE(at);
  if (nodeLen > MAX_ID_LEN || p.length < at + 8 + nodeLen) return null;
  const nodeId = utf8(p, at + 2, nodeLen);
  const workerIndex = p.readUInt16LE(at + 2 + nodeLen);
  const workerCount = p.readUInt16LE(at + 4 + nodeLen);
  const addrLen = p.readUInt16LE(at + 6 + nodeLen);
  const addrAt = at + 8 + nodeLen;
  if (addrLen > MAX_ID_LEN || p.length < addrAt + addrLen) return null;
  const address = utf8(p, addrAt, addrLen);
  if (nodeId === null || address === null) return null;
  return { info: { nodeId, workerIndex, workerCount, address }, end: addrAt + addrLen };
}

/** PeerList, §3: u16 count, then u16 len + address per entry. */
export function encodePeerList(addresses: readonly string[]): Buffer {
  const list = addresses.slice(0, MAX_PEER_LIST);
  const count = Buffer.allocUnsafe(2);
  count.writeUInt16LE(list.length, 0);
  return Buffer.concat([count, ...list.map(lenPrefixed)]);
}

/** §9: at most 256 entries are read; parsing stops at a truncated entry. */
export function decodePeerList(p: Buffer): string[] {
  if (p.length < 2) return [];
  const count = Math.min(p.readUInt16LE(0), MAX_PEER_LIST);
  const out: string[] = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    if (p.length < at + 2) break;
    const len = p.readUInt16LE(at);
    if (p.length < at + 2 + len) break;
    const address = utf8(p, at + 2, len);
    if (address !== null) out.push(address);
    at += 2 + len;
  }
  return out;
}

export interface PublishPayload {
  cid: string;
  body: Buffer;
}

/** PUBLISH, §E.a: u16 cid_len, cid, body. */
export function encodePublish(cid: string, body: Buffer): Buffer {
  const c = lenPrefixed(cid);
  const out = Buffer.allocUnsafe(c.length + body.length);
  c.copy(out, 0);
  body.copy(out, c.length);
  return out;
}

export function decodePublish(p: Buffer): PublishPayload | null {
  if (p.length < 2) return null;
  const cidLen = p.readUInt16LE(0);
  if (cidLen > MAX_CID_LEN || p.length < 2 + cidLen) return null;
  const cid = utf8(p, 2, cidLen);
  if (cid === null) return null;
  return { cid, body: p.subarray(2 + cidLen) };
}

export interface Puback {
  cid: string;
  status: number;
  epoch: number;
  offset: number;
}

export const PUBACK_OK = 0;
export const PUBACK_REJECTED = 1;

/** PUBACK, §E.a: u16 cid_len, cid, u8 status, u32 epoch, u64 offset. */
export function encodePuback(a: Puback): Buffer {
  const c = lenPrefixed(a.cid);
  const out = Buffer.allocUnsafe(c.length + 13);
  c.copy(out, 0);
  out[c.length] = a.status;
  out.writeUInt32LE(a.epoch >>> 0, c.length + 1);
  writeU64LE(out, c.length + 5, a.offset);
  return out;
}

export function decodePuback(p: Buffer): Puback | null {
  if (p.length < 2) return null;
  const cidLen = p.readUInt16LE(0);
  if (cidLen > MAX_CID_LEN || p.length < 15 + cidLen) return null;
  const cid = utf8(p, 2, cidLen);
  if (cid === null) return null;
  const at = 2 + cidLen;
  return { cid, status: p[at]!, epoch: p.readUInt32LE(at + 1), offset: readU64LE(p, at + 5) };
}

export function encodeU32(value: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32LE(value >>> 0, 0);
  return out;
}

/** SEQ_CLAIM carries the claim id, CREDIT the count: one u32 LE each (§E.a, §E.b). */
export function decodeU32(p: Buffer): number | null {
  return p.length < 4 ? null : p.readUInt32LE(0);
}

export const POS_HAS_POSITION = 0x01;
export const POS_RELINQUISHED = 0x02;

export interface SeqPosition {
  claimId: number;
  flags: number;
  epoch: number;
  offset: number;
  stamper: string;
}

/** SEQ_POSITION, §E.a. */
export function encodeSeqPosition(s: SeqPosition): Buffer {
  const stamper = Buffer.from(s.stamper, 'utf8');
  const out = Buffer.allocUnsafe(19 + stamper.length);
  out.writeUInt32LE(s.claimId >>> 0, 0);
  out[4] = s.flags;
  out.writeUInt32LE(s.epoch >>> 0, 5);
  writeU64LE(out, 9, s.offset);
  out.writeUInt16LE(stamper.length, 17);
  stamper.copy(out, 19);
  return out;
}

export function decodeSeqPosition(p: Buffer): SeqPosition | null {
  if (p.length < 19) return null;
  const len = p.readUInt16LE(17);
  if (len > MAX_ID_LEN || p.length < 19 + len) return null;
  const stamper = utf8(p, 19, len);
  if (stamper === null) return null;
  return { claimId: p.readUInt32LE(0), flags: p[4]!, epoch: p.readUInt32LE(5), offset: readU64LE(p, 9), stamper };
}

export const PresenceAction = { JOIN: 0, LEAVE: 1, UPDATE: 2 } as const;

export interface PresenceUpdate {
  action: number;
  updatedAt: number;
  user: string;
  /** Presence data JSON text; empty means null (§10). */
  data: string;
}

/** PresenceUpdate, §10: u8 action, u64 updated_at, u16 user_len, user, data JSON. */
export function encodePresenceUpdate(u: PresenceUpdate): Buffer {
  const user = Buffer.from(u.user, 'utf8');
  const data = Buffer.from(u.data, 'utf8');
  const out = Buffer.allocUnsafe(11 + user.length + data.length);
  out[0] = u.action;
  writeU64LE(out, 1, u.updatedAt);
  out.writeUInt16LE(user.length, 9);
  user.copy(out, 11);
  data.copy(out, 11 + user.length);
  return out;
}

export function decodePresenceUpdate(p: Buffer): PresenceUpdate | null {
  if (p.length < 11) return null;
  const userLen = p.readUInt16LE(9);
  if (p.length < 11 + userLen) return null;
  const user = utf8(p, 11, userLen);
  const data = utf8(p, 11 + userLen, p.length - 11 - userLen);
  if (user === null || data === null || p[0]! > 2) return null;
  return { action: p[0]!, updatedAt: readU64LE(p, 1), user, data };
}

/** §E.f RANGE_REQUEST: stamped messages of one (topic, epoch) from `from` on. */
export interface RangeRequest {
  id: number;
  epoch: number;
  from: number;
}

/**
 * §E.f RANGE_REPLY: whether the sender's current ring for (topic, epoch) reaches back to `from`, and
 * if so its messages `from`, `from`+1, … (none: the asker missed nothing).
 */
export interface RangeReply extends RangeRequest {
  held: boolean;
  messages: Buffer[];
}

const RANGE_HEAD = 16;

export function encodeRangeRequest(r: RangeRequest): Buffer {
  const out = Buffer.allocUnsafe(RANGE_HEAD);
  writeRangeHead(out, r);
  return out;
}

export function decodeRangeRequest(p: Buffer): RangeRequest | null {
  return p.length < RANGE_HEAD ? null : readRangeHead(p);
}

/** The messages must fit one frame; the caller sends a prefix of the range when they do not. */
export function encodeRangeReply(r: RangeReply): Buffer {
  let size = RANGE_HEAD + 5;
  for (const m of r.messages) size += 4 + m.length;
  const out = Buffer.allocUnsafe(size);
  writeRangeHead(out, r);
  out[RANGE_HEAD] = r.held ? 1 : 0;
  out.writeUInt32LE(r.messages.length, RANGE_HEAD + 1);
  let at = RANGE_HEAD + 5;
  for (const m of r.messages) {
    out.writeUInt32LE(m.length, at);
    m.copy(out, at + 4);
    at += 4 + m.length;
  }
  return out;
}

/** Null when malformed: a count or a length past the end, or a message that is not UTF-8 (§2). */
export function decodeRangeReply(p: Buffer): RangeReply | null {
  if (p.length < RANGE_HEAD + 5) return null;
  const held = p[RANGE_HEAD] === 1;
  const count = p.readUInt32LE(RANGE_HEAD + 1);
  if (!held && count > 0) return null;
  const messages: Buffer[] = [];
  let at = RANGE_HEAD + 5;
  for (let i = 0; i < count; i++) {
    if (at + 4 > p.length) return null;
    const len = p.readUInt32LE(at);
    if (at + 4 + len > p.length) return null;
    const message = copyUtf8(p, at + 4, at + 4 + len);
    if (message === null) return null;
    messages.push(message);
    at += 4 + len;
  }
  return { ...readRangeHead(p), held, messages };
}

function writeRangeHead(out: Buffer, r: RangeRequest): void {
  out.writeUInt32LE(r.id >>> 0, 0);
  out.writeUInt32LE(r.epoch >>> 0, 4);
  writeU64LE(out, 8, r.from);
}

function readRangeHead(p: Buffer): RangeRequest {
  return { id: p.readUInt32LE(0), epoch: p.readUInt32LE(4), from: readU64LE(p, 8) };
}
