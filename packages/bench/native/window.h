/* subscriber-pool.ts setWindow: window-local CPU, taken by timers at the window's edges. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  bool start_armed, end_armed;
  double start_us, end_us;
  bool have_cpu_start;
  int64_t cpu_at_start;
  int64_t cpu_micros;
  double cpu_wall_micros;
} window_timers;

extern window_timers win;

void window_fire_due(void);
void window_end_at_settle(void);
