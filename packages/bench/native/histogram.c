/* latency-histogram.ts: the same bucket layout, so snapshots merge with the Node processes'. */
#include "histogram.h"

#include <string.h>

void hist_reset(histogram *h) {
  memset(h, 0, sizeof *h);
  h->min = UINT32_MAX;
}

void hist_merge(histogram *into, const histogram *other) {
  for (int i = 0; i < HIST_BUCKETS; i++) into->counts[i] += other->counts[i];
  into->count += other->count;
  into->sum += other->sum;
  if (other->count > 0) {
    if (other->min < into->min) into->min = other->min;
    if (other->max > into->max) into->max = other->max;
  }
}

/** HistogramSnapshot: {counts, count, sum, min, max}; min is null (JSON of Infinity) when empty. */
void hist_json(strbuf *b, const histogram *h) {
  sb_puts(b, "{\"counts\":[");
  for (int i = 0; i < HIST_BUCKETS; i++) {
    if (i > 0) sb_put(b, ",", 1);
    if (h->counts[i] == 0) sb_put(b, "0", 1);
    else sb_printf(b, "%llu", (unsigned long long)h->counts[i]);
  }
  sb_printf(b, "],\"count\":%llu,\"sum\":%llu,\"min\":", (unsigned long long)h->count, (unsigned long long)h->sum);
  if (h->count == 0) sb_puts(b, "null");
  else sb_printf(b, "%u", h->min);
  sb_printf(b, ",\"max\":%u}", h->max);
}
