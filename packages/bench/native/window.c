/* subscriber-pool.ts setWindow: window-local CPU, taken by timers at the window's edges. */
#include "window.h"

#include "clocks.h"

window_timers win;

/** Takes the process CPU time at each armed window edge that has passed. */
void window_fire_due(void) {
  double now = now_us();
  if (win.start_armed && now >= win.start_us) {
    win.start_armed = false;
    win.cpu_at_start = cpu_total_us();
    win.have_cpu_start = true;
  }
  if (win.end_armed && now >= win.end_us) {
    win.end_armed = false;
    int64_t total = cpu_total_us();
    win.cpu_micros = win.have_cpu_start ? total - win.cpu_at_start : total;
    win.cpu_wall_micros = win.end_us - win.start_us;
  }
}
