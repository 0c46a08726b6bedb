import { isUtf8 } from 'node:buffer';

/**
 * Copies `src[start, end)` into `dst` at `at`; returns the end position in `dst`.
 *
 * Hot paths copy parts of buffers (a payload out of a socket chunk, a record between links).
 * `Buffer#subarray` and a partial `Buffer#copy` each construct a Buffer view first, and that
 * subclass construction costs more than the copy of a ~100-byte record; a plain Uint8Array view
 * costs about half as much. Very short ranges are copied byte by byte.
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

/** Up to this length a JS loop that copies and checks for ASCII beats a native copy plus `isUtf8`. */
const SHORT_COPY = 128;

/**
 * A copy of `src[start, end)`, or null when those bytes are not valid UTF-8 (MESH.md §2).
 * Short ranges, the common MSG payload, are copied byte by byte while checking for ASCII, which
 * is valid UTF-8 and spares the native validation call; anything else is validated by `isUtf8`.
 */
export function copyUtf8(src: Uint8Array, start: number, end: number): Buffer | null {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n > SHORT_COPY) {
    copyRange(src, start, end, out, 0);
    return isUtf8(out) ? out : null;
  }
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = src[start + i]!;
    high |= c;
    out[i] = c;
  }
  return high < 0x80 || isUtf8(out) ? out : null;
}
