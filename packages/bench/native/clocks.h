/* Clocks: wall time shared with the publisher, monotonic time for deadlines, process CPU time. */
#pragma once

#include <stdint.h>

double now_us(void);
int64_t mono_ms(void);
int64_t cpu_total_us(void);
