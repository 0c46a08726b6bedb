/**
 * Gap and duplicate detection on one increasing integer sequence (the publisher's `s`, or the
 * server's `o` offset, PROTOCOL.md §8). A value above last+1 counts the values skipped as gaps and
 * advances; a value at or below the last one counts as a duplicate and does not move back.
 */
export class SequenceTracker {
  last: number;
  gaps = 0;
  duplicates = 0;

  /**
   * @param expectedFirst the first value that must arrive (a missing start counts as a gap), or
   *   null when the first value seen is the baseline (e.g. an offset inside an existing ring).
   */
  constructor(expectedFirst: number | null) {
    this.last = expectedFirst === null ? NaN : expectedFirst - 1;
  }

  get started(): boolean {
    return this.last === this.last;
  }

  observe(value: number): void {
    const last = this.last;
    if (value === last + 1 || last !== last) {
      this.last = value;
    } else if (value > last) {
      this.gaps += value - last - 1;
      this.last = value;
    } else {
      this.duplicates++;
    }
  }
}
