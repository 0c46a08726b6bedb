/* latency-histogram.ts: the same bucket layout, so snapshots merge with the Node processes'. */
#pragma once

#include <stdint.h>

#include "strbuf.h"

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1 << HIST_SUB_BITS)
#define HIST_HALF_COUNT (HIST_SUB_COUNT >> 1)
#define HIST_MAX_VALUE 0x7fffffffu
#define HIST_BUCKETS ((31 - HIST_SUB_BITS + 2) * HIST_HALF_COUNT)

typedef struct {
  uint64_t counts[HIST_BUCKETS];
  uint64_t count, sum;
  uint32_t min, max; /* min is meaningful only when count > 0 (Infinity in the Node class) */
} histogram;

/* Inline: every delivery inside the window records one value. */
static inline unsigned hist_bucket(uint32_t v) {
  if (v < HIST_SUB_COUNT) return v;
  unsigned shift = 31u - (unsigned)__builtin_clz(v) - (HIST_SUB_BITS - 1);
  return shift * HIST_HALF_COUNT + (v >> shift);
}

static inline void hist_record(histogram *h, double value) {
  uint32_t v = !(value > 0) ? 0 : value >= HIST_MAX_VALUE ? HIST_MAX_VALUE : (uint32_t)value;
  h->counts[hist_bucket(v)]++;
  h->count++;
  h->sum += v;
  if (v < h->min) h->min = v;
  if (v > h->max) h->max = v;
}

void hist_reset(histogram *h);
void hist_merge(histogram *into, const histogram *other);
void hist_json(strbuf *b, const histogram *h);
