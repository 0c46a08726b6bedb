/* publication-scanner.ts: `"o":`, `"s":` and `"ts":` by byte comparison at remembered places. */
#pragma once

/* Header only: it runs for every delivery, inlined into session_on_text. */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

typedef struct {
  int64_t offset, seq, ts; /* -1 where absent */
  long offset_hint;        /* position of `"o":` from the message start */
  long seq_hint;           /* position of `"s":` from the end of the offset's digits */
  long number_end;
} pub_scanner;

static inline bool scan_is_key1(const uint8_t *b, long at, long end, uint8_t letter) {
  if (at + 4 > end) return false;
  uint8_t before = b[at - 1];
  return b[at] == '"' && b[at + 1] == letter && b[at + 2] == '"' && b[at + 3] == ':' && (before == '{' || before == ',');
}

static inline long scan_find_key1(const uint8_t *b, long from, long end, uint8_t letter) {
  for (long i = from + 1; i + 4 <= end; i++) {
    if (b[i + 1] == letter && scan_is_key1(b, i, end, letter)) return i;
  }
  return -1;
}

static inline bool scan_is_ts_key(const uint8_t *b, long at, long end) {
  if (at + 5 > end) return false;
  uint8_t before = b[at - 1];
  return b[at] == '"' && b[at + 1] == 't' && b[at + 2] == 's' && b[at + 3] == '"' && b[at + 4] == ':' &&
         (before == '{' || before == ',');
}

static inline long scan_find_ts_key(const uint8_t *b, long from, long end) {
  for (long i = from + 1; i + 5 <= end; i++) {
    if (b[i + 1] == 't' && scan_is_ts_key(b, i, end)) return i;
  }
  return -1;
}

/** Eight ASCII digits at `p` as a number (little-endian SWAR); false if any byte is not a digit. */
static inline bool scan_eight_digits(const uint8_t *p, uint64_t *out) {
  uint64_t v;
  memcpy(&v, p, 8);
  if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) != 0x3333333333333333ULL) return false;
  v -= 0x3030303030303030ULL;
  v = v * 10 + (v >> 8);
  v = ((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) + ((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >> 32;
  *out = v;
  return true;
}

/**
 * Non-negative JSON integer at `pos`; -1 when there is none. Sets number_end. Timestamps have 16
 * digits: eight at a time, then one at a time; past 18 digits the value saturates (JS rounds).
 */
static inline int64_t scan_number(pub_scanner *sc, const uint8_t *b, long pos, long end) {
  if (pos < end && b[pos] == '-') {
    sc->number_end = pos;
    return -1;
  }
  uint64_t value = 0, eight;
  long i = pos;
  while (i + 8 <= end && i - pos < 16 && scan_eight_digits(b + i, &eight)) {
    value = value * 100000000u + eight;
    i += 8;
  }
  for (; i < end; i++) {
    unsigned digit = (unsigned)b[i] - '0';
    if (digit > 9) break;
    value = value < (uint64_t)(INT64_MAX - 9) / 10 ? value * 10 + digit : (uint64_t)INT64_MAX;
  }
  sc->number_end = i;
  return i == pos ? -1 : (int64_t)value;
}

/** True when the message carries an `o` stamp (a publication). */
static inline bool scan_publication(pub_scanner *sc, const uint8_t *b, long start, long end) {
  long at = start + sc->offset_hint;
  if (sc->offset_hint < 0 || !scan_is_key1(b, at, end, 'o')) {
    at = scan_find_key1(b, start, end, 'o');
    if (at < 0) return false;
    sc->offset_hint = at - start;
  }
  sc->offset = scan_number(sc, b, at + 4, end);
  long after_offset = sc->number_end;
  at = after_offset + sc->seq_hint;
  if (sc->seq_hint < 0 || !scan_is_key1(b, at, end, 's')) {
    at = scan_find_key1(b, after_offset, end, 's');
    if (at < 0) {
      sc->seq = -1;
      sc->ts = -1;
      return true;
    }
    sc->seq_hint = at - after_offset;
  }
  sc->seq = scan_number(sc, b, at + 4, end);
  at = sc->number_end + 1;
  /* The publisher writes `ts` right after `s`; anything else is looked for after the offset. */
  if (!scan_is_ts_key(b, at, end)) at = scan_find_ts_key(b, after_offset, end);
  sc->ts = at < 0 ? -1 : scan_number(sc, b, at + 5, end);
  return true;
}
