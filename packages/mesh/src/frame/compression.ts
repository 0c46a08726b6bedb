import zstd from 'zstd-napi/binding.js';
import { COMPRESS_MIN, MAX_FRAME } from './constants.js';

/**
 * zstd for MSG payloads, MESH.md §8: level 1, only for payloads of 256 bytes or more, only when the
 * result is smaller; decompressed output is capped at 1 MiB. One context and one output buffer per
 * process: compression runs synchronously on the event loop thread.
 */
const LEVEL = 1;
const cctx = new zstd.CCtx();
const dctx = new zstd.DCtx();
const compressOut = Buffer.allocUnsafe(zstd.compressBound(MAX_FRAME));
// One byte over the cap tells "exactly 1 MiB" apart from "more than 1 MiB".
const decompressOut = Buffer.allocUnsafe(MAX_FRAME + 1);

/** The compressed bytes, or null when compression does not apply or does not help. */
export function maybeCompress(payload: Buffer): Buffer | null {
  if (payload.length < COMPRESS_MIN || payload.length > MAX_FRAME) return null;
  const n = cctx.compress(compressOut, payload, LEVEL);
  if (n >= payload.length) return null;
  return Buffer.from(compressOut.subarray(0, n));
}

/** The decompressed bytes, or null on a zstd error or when the output would pass 1 MiB (§8). */
export function decompressCapped(input: Buffer): Buffer | null {
  try {
    dctx.reset(zstd.ResetDirective.sessionOnly);
    let consumedTotal = 0;
    let produced = 0;
    for (;;) {
      const [ret, out, consumed] = dctx.decompressStream(
        decompressOut.subarray(produced),
        input.subarray(consumedTotal),
      );
      produced += out;
      consumedTotal += consumed;
      if (produced > MAX_FRAME) return null;
      if (ret === 0 && consumedTotal === input.length) break;
      if (out === 0 && consumed === 0) return null;
    }
    return Buffer.from(decompressOut.subarray(0, produced));
  } catch {
    return null;
  }
}
