/* The control thread's waits, which keep the channel, the workers and the window timers serviced. */
#include "control.h"

#include <poll.h>
#include <stdatomic.h>
#include <unistd.h>

#include "bounds.h"
#include "clocks.h"
#include "die.h"
#include "ipc.h"
#include "process-state.h"
#include "window.h"

/** Waits up to `timeout_ms` (-1: until something happens) for the channel, a worker or a window edge. */
void control_poll(int64_t timeout_ms) {
  double now = now_us();
  if (win.start_armed) {
    int64_t due = (int64_t)((win.start_us - now) / 1000) + 1;
    if (timeout_ms < 0 || due < timeout_ms) timeout_ms = due < 0 ? 0 : due;
  } else if (win.end_armed) {
    int64_t due = (int64_t)((win.end_us - now) / 1000) + 1;
    if (timeout_ms < 0 || due < timeout_ms) timeout_ms = due < 0 ? 0 : due;
  }
  struct pollfd fds[2] = {{.fd = P.ipc_fd, .events = POLLIN}, {.fd = P.wake_fd, .events = POLLIN}};
  int r = poll(fds, 2, timeout_ms > 0x7fffffff ? 0x7fffffff : (int)timeout_ms);
  if (r > 0) {
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) ipc_fill();
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      ssize_t n = read(P.wake_fd, &v, sizeof v);
      (void)n;
    }
  }
  window_fire_due();
}

/** Posts `c` to every worker and waits until each has run it. */
void workers_run(const command *c) {
  for (int i = 0; i < P.threads; i++) {
    worker *w = &P.workers[i];
    w->cmd = *c;
    if (c->kind == CMD_SNAPSHOT) w->cmd.out = &c->out[i];
    atomic_store_explicit(&w->cmd_pending, 1, memory_order_release);
    uint64_t one = 1;
    ssize_t r = write(w->cmd_fd, &one, sizeof one);
    (void)r;
  }
  int64_t deadline = mono_ms() + WORKER_REPLY_TIMEOUT_MS;
  for (int i = 0; i < P.threads; i++) {
    while (atomic_load_explicit(&P.workers[i].cmd_pending, memory_order_acquire)) {
      if (mono_ms() > deadline) die("worker %d did not answer within %d ms", i, WORKER_REPLY_TIMEOUT_MS);
      control_poll(10);
    }
  }
}
