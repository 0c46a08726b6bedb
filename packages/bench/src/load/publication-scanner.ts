/**
 * Reads the three numbers the benchmark needs from a publication without parsing its JSON:
 * the server's offset `"o":` (PROTOCOL.md §8, stamped as one of the first members) and the
 * publisher's `"s":` (sequence) and `"ts":` (publish time) inside `p`. Where they sit is
 * remembered, so a stream of same-shaped messages costs a few byte comparisons each.
 */

const QUOTE = 0x22;
const COLON = 0x3a;
const COMMA = 0x2c;
const BRACE = 0x7b;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const LETTER_O = 0x6f;
const LETTER_S = 0x73;
const LETTER_T = 0x74;

export class PublicationScanner {
  /** Results of the last successful scan; -1 where the field is absent. */
  offset = -1;
  seq = -1;
  ts = -1;
  /** Position of `"o":` relative to the message start, as last found. */
  private offsetHint = -1;
  /** Position of `"s":` relative to the end of the offset's digits, as last found. */
  private seqHint = -1;
  private numberEnd = 0;

  /** True when the message carries an `o` stamp (a publication). */
  scan(buf: Buffer, start: number, end: number): boolean {
    let at = start + this.offsetHint;
    if (this.offsetHint < 0 || !isKey1(buf, at, end, LETTER_O)) {
      at = findKey1(buf, start, end, LETTER_O);
      if (at < 0) return false;
      this.offsetHint = at - start;
    }
    this.offset = this.readNumber(buf, at + 4, end);
    const afterOffset = this.numberEnd;
    at = afterOffset + this.seqHint;
    if (this.seqHint < 0 || !isKey1(buf, at, end, LETTER_S)) {
      at = findKey1(buf, afterOffset, end, LETTER_S);
      if (at < 0) {
        this.seq = -1;
        this.ts = -1;
        return true;
      }
      this.seqHint = at - afterOffset;
    }
    this.seq = this.readNumber(buf, at + 4, end);
    at = this.numberEnd + 1;
    // The publisher writes `ts` right after `s`; anything else is looked for after the offset.
    if (!isTsKey(buf, at, end)) at = findTsKey(buf, afterOffset, end);
    this.ts = at < 0 ? -1 : this.readNumber(buf, at + 5, end);
    return true;
  }

  /** Non-negative JSON integer at `pos`; -1 when there is none. Sets numberEnd. */
  private readNumber(buf: Buffer, pos: number, end: number): number {
    if (pos < end && buf[pos] === MINUS) {
      this.numberEnd = pos;
      return -1;
    }
    let value = 0;
    let i = pos;
    for (; i < end; i++) {
      const digit = buf[i]! - DIGIT_0;
      if (digit < 0 || digit > 9) break;
      value = value * 10 + digit;
    }
    this.numberEnd = i;
    return i === pos ? -1 : value;
  }
}

/** `"k":` with a one-letter key k at `at`, preceded by `{` or `,` so a string cannot fake it. */
function isKey1(buf: Buffer, at: number, end: number, letter: number): boolean {
  if (at + 4 > end) return false;
  const before = buf[at - 1];
  return (
    buf[at] === QUOTE &&
    buf[at + 1] === letter &&
    buf[at + 2] === QUOTE &&
    buf[at + 3] === COLON &&
    (before === BRACE || before === COMMA)
  );
}

function findKey1(buf: Buffer, from: number, end: number, letter: number): number {
  for (let i = from + 1; i + 4 <= end; i++) {
    if (buf[i + 1] === letter && isKey1(buf, i, end, letter)) return i;
  }
  return -1;
}

/** `"ts":` at `at`, preceded by `{` or `,`. */
function isTsKey(buf: Buffer, at: number, end: number): boolean {
  if (at + 5 > end) return false;
  const before = buf[at - 1];
  return (
    buf[at] === QUOTE &&
    buf[at + 1] === LETTER_T &&
    buf[at + 2] === LETTER_S &&
    buf[at + 3] === QUOTE &&
    buf[at + 4] === COLON &&
    (before === BRACE || before === COMMA)
  );
}

function findTsKey(buf: Buffer, from: number, end: number): number {
  for (let i = from + 1; i + 5 <= end; i++) {
    if (buf[i + 1] === LETTER_T && isTsKey(buf, i, end)) return i;
  }
  return -1;
}
