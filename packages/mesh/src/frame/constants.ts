/** Frame types, MESH.md §3 and §E. */
export const FrameType = {
  MSG: 0x01,
  PING: 0x02,
  PONG: 0x03,
  HELLO: 0x04,
  SHUTDOWN: 0x05,
  SUB: 0x06,
  UNSUB: 0x07,
  RESYNC: 0x08,
  PEER_ANNOUNCE: 0x09,
  PEER_LIST: 0x0a,
  PRESENCE_UPDATE: 0x0b,
  PRESENCE_FULL: 0x0c,
  DRAIN: 0x0d,
  PUBLISH: 0x0e,
  PUBACK: 0x0f,
  SEQ_CLAIM: 0x10,
  SEQ_POSITION: 0x11,
  CREDIT: 0x12,
  RANGE_REQUEST: 0x13,
  RANGE_REPLY: 0x14,
} as const;
export type FrameTypeCode = (typeof FrameType)[keyof typeof FrameType];

/** Header flags, MESH.md §2; BOUNCED is PUBLISH-only (§E). */
export const Flag = {
  COMPRESSED: 0x01,
  HAS_RECOVERY: 0x02,
  CONTINUATION: 0x01,
  BOUNCED: 0x04,
} as const;

/** Capability bits, MESH.md §3 and §E. */
export const Cap = {
  INTEREST_ROUTING: 0x01,
  COMPRESSION: 0x02,
  PRESENCE: 0x04,
  RECOVERY: 0x08,
  SEQUENCER: 0x10,
  MEMBER_INFO: 0x20,
  AUTH: 0x40,
  /** §E.f: answers RANGE_REQUEST from its recovery rings. */
  RANGE: 0x80,
} as const;

/** Everything this implementation can speak; AUTH is added only when a secret is configured. */
export const CAPS_ALL = 0xbf;

export const RECORD_PREFIX = 4;
export const HEADER_LEN = 8;
export const TRAILER_LEN = 12;
/** MESH.md §2: 1 ≤ L ≤ 1 MiB. */
export const MAX_FRAME = 1_048_576;
export const MAX_TOPIC_BYTES = 65_535;
export const PROTOCOL_VERSION = 1;
export const HELLO_MAGIC = 0x00455357; // "WSE\0" read as u32 LE
export const MAX_ID_LEN = 256;
/** MESH.md §8: compress MSG payloads of 256 bytes or more. */
export const COMPRESS_MIN = 256;
/** MESH.md §6: RESYNC chunks carry at most 1 MiB − 8 payload bytes. */
export const RESYNC_CHUNK = MAX_FRAME - HEADER_LEN;
/** MESH.md §9: at most 256 PeerList entries are read. */
export const MAX_PEER_LIST = 256;
/** MESH.md §E.a: a PUBLISH correlation id is at most 256 bytes. */
export const MAX_CID_LEN = 256;
