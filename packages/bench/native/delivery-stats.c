/* delivery-stats.ts: a worker's delivery counters, window and latency histogram. */
#include "delivery-stats.h"

#include "clocks.h"

void stats_on_read(delivery_stats *st) {
  double now = now_us();
  st->now = now;
  st->in_window = now >= st->window_start && now < st->window_end;
}

void stats_reset(delivery_stats *st) {
  st->deliveries = st->bytes = st->window_deliveries = st->window_bytes = st->other_frames = 0;
  st->in_window = false;
  st->window_start = st->window_end = 1.0 / 0.0;
  hist_reset(&st->latency);
}
