/* subscriber-pool.ts setWindow: window-local CPU, taken by timers at the window's edges. */
#include "window.h"

#include "clocks.h"

window_timers win;

/** Window CPU from the start edge to `end_us` (the end edge, or now when the window ends early). */
static void end_cpu_window(double end_us) {
  win.end_armed = false;
  int64_t total = cpu_total_us();
  win.cpu_micros = win.have_cpu_start ? total - win.cpu_at_start : total;
  win.cpu_wall_micros = end_us - win.start_us;
}

/** Takes the process CPU time at each armed window edge that has passed. */
void window_fire_due(void) {
  double now = now_us();
  if (win.start_armed && now >= win.start_us) {
    win.start_armed = false;
    win.cpu_at_start = cpu_total_us();
    win.have_cpu_start = true;
  }
  if (win.end_armed && now >= win.end_us) end_cpu_window(win.end_us);
}

/**
 * subscriber-pool.ts settle: the coordinator settles only once the window has ended by its own
 * clock, so a window still open here is open only by the skew between the two clocks. It ends now,
 * over the time it actually ran; otherwise the report would carry no window CPU at all.
 */
void window_end_at_settle(void) {
  window_fire_due();
  if (win.end_armed && win.have_cpu_start) end_cpu_window(now_us());
}
