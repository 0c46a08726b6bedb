/**
 * Copies `src[start, end)` into `dst` at `at`; returns the end position in `dst`.
 *
 * Hot paths copy parts of buffers (a payload out of a socket chunk, a record between links).
 * `Buffer#subarray` and a partial `Buffer#copy` each construct a Buffer view first, and that
 * subclass construction costs more than the copy of a ~100-byte record; a plain Uint8Array view
 * is several times cheaper. Very short ranges are copied byte by byte.
 */
export function copyRange(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): number {
  const n = end - start;
  if (n <= 8) {
    for (let i = 0; i < n; i++) dst[at + i] = src[start + i]!;
  } else {
    dst.set(new Uint8Array(src.buffer, src.byteOffset + start, n), at);
  }
  return at + n;
}

/** A new Buffer holding a copy of `src[start, end)` (never a view that would pin `src`). */
export function copyOut(src: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  copyRange(src, start, end, out, 0);
  return out;
}
