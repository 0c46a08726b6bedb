/* delivery-stats.ts: a worker's delivery counters, window and latency histogram. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "publication-scanner.h"

typedef struct {
  double now;
  bool in_window;
  double window_start, window_end;
  uint64_t deliveries, bytes, window_deliveries, window_bytes, other_frames;
  histogram latency;
  pub_scanner scanner; /* one per worker: same-shaped messages keep its hints hot */
} delivery_stats;

void stats_on_read(delivery_stats *st);
void stats_reset(delivery_stats *st);

/**
 * Deliveries and bytes count by arrival time inside the window; latency counts only messages
 * published inside it, whenever they arrive. Inline: it runs for every delivery.
 */
static inline void stats_record(delivery_stats *st, uint64_t bytes, int64_t published_us) {
  st->deliveries++;
  st->bytes += bytes;
  if (st->in_window) {
    st->window_deliveries++;
    st->window_bytes += bytes;
  }
  double published = (double)published_us;
  if (published >= st->window_start && published < st->window_end) hist_record(&st->latency, st->now - published);
}
