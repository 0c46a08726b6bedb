/* Clocks: wall time shared with the publisher, monotonic time for deadlines, process CPU time. */
#include "clocks.h"

#include <sys/resource.h>
#include <time.h>

/** sys/clock.ts: wall clock in (fractional) microseconds, shared with the publisher's process. */
double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

int64_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** process.cpuUsage(): user + system of the whole process (every thread), µs. */
int64_t cpu_total_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return ((int64_t)r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}
