/** Text as a Buffer with its own backing store (not a view into the shared pool), so the memory it keeps alive equals its length. */
export function ownBuffer(text: string): Buffer {
  const bytes = new TextEncoder().encode(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
