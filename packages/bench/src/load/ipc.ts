import type { ConnectSpec, PoolReport } from './subscriber-pool.js';

/** Commands from the coordinating process to a load process; each gets exactly one reply. */
export type LoadCommand =
  | { id: number; op: 'connect'; spec: ConnectSpec }
  | { id: number; op: 'window'; startUs: number; endUs: number }
  | { id: number; op: 'settle'; lastSeq: number; quietMs: number; timeoutMs: number }
  | { id: number; op: 'report' }
  | { id: number; op: 'close'; timeoutMs: number };

export type LoadReply =
  | { id: number; ok: true; report?: PoolReport }
  | { id: number; ok: false; error: string };
