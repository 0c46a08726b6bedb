/* Worker threads: an epoll loop each over a share of the subscribers, told what to do through a mailbox. */
#include "worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clocks.h"
#include "die.h"
#include "process-state.h"
#include "rng.h"

void worker_count_close(worker *w, int code) {
  for (uint32_t i = 0; i < w->close_codes; i++) {
    if (w->close_code[i] == code) {
      w->close_count[i]++;
      return;
    }
  }
  uint32_t i = w->close_codes < MAX_CLOSE_CODES ? w->close_codes++ : MAX_CLOSE_CODES - 1;
  w->close_code[i] = code;
  w->close_count[i]++;
}

static void worker_snapshot(worker *w, snapshot *out, bool light) {
  const delivery_stats *st = &w->stats;
  out->subscribers = w->sub_count;
  out->live = 0;
  out->connect_failures = w->connect_failures;
  out->deliveries = st->deliveries;
  out->bytes = st->bytes;
  out->window_deliveries = st->window_deliveries;
  out->window_bytes = st->window_bytes;
  out->other_frames = st->other_frames;
  out->seq_gaps = out->seq_duplicates = out->offset_gaps = out->offset_duplicates = 0;
  out->any_live = false;
  out->min_last_seq = INT64_MAX;
  for (uint32_t i = 0; i < w->sub_count; i++) {
    const subscriber *s = w->subs[i];
    out->seq_gaps += s->seq.gaps;
    out->seq_duplicates += s->seq.duplicates;
    out->offset_gaps += s->offsets.gaps;
    out->offset_duplicates += s->offsets.duplicates;
    if (!light && s->topic->id < out->topic_count) {
      out->topic_subscribers[s->topic->id]++;
      out->topic_deliveries[s->topic->id] += s->delivered;
    }
    if (s->session != SESSION_LIVE) continue;
    out->live++;
    out->any_live = true;
    if (s->seq.last < out->min_last_seq) out->min_last_seq = s->seq.last;
  }
  out->close_codes = w->close_codes;
  memcpy(out->close_code, w->close_code, sizeof w->close_code);
  memcpy(out->close_count, w->close_count, sizeof w->close_count);
  if (!light) out->latency = st->latency;
}

static void worker_close_all(worker *w) {
  for (uint32_t i = 0; i < w->sub_count; i++) {
    subscriber *s = w->subs[i];
    sub_close(w, s, 1000);
    if (s->destroyed) sub_finish(w, s);
  }
}

/** Drops every subscriber, still open or not, and zeroes the counters (closeAll's reset). */
static void worker_reset(worker *w) {
  for (uint32_t i = 0; i < w->sub_count; i++) {
    subscriber *s = w->subs[i];
    if (s->conn != CONN_CLOSED) {
      sub_release(w, s);
      atomic_fetch_sub(&P.open, 1);
    }
    free(s->last_error);
    free(s->failure);
    free(s);
  }
  w->sub_count = 0;
  w->in_grace = 0;
  w->connect_failures = 0;
  w->close_codes = 0;
  memset(w->close_count, 0, sizeof w->close_count);
  stats_reset(&w->stats);
}

static void worker_run_command(worker *w) {
  command *c = &w->cmd;
  switch (c->kind) {
    case CMD_OPEN:
      for (uint32_t i = 0; i < c->count; i++) {
        if ((c->first_subscriber + i) % (uint64_t)P.threads != (uint64_t)w->id) continue;
        sub_create(w, c->target, c->topics[(c->topic_base + i) % c->topic_count], c->gen);
      }
      break;
    case CMD_WINDOW:
      w->stats.window_start = c->start_us;
      w->stats.window_end = c->end_us;
      break;
    case CMD_SNAPSHOT: worker_snapshot(w, c->out, c->light); break;
    case CMD_CLOSE_ALL: worker_close_all(w); break;
    case CMD_RESET: worker_reset(w); break;
  }
  atomic_store_explicit(&w->cmd_pending, 0, memory_order_release);
  wake_control();
}

static void worker_check_graces(worker *w) {
  int64_t now = mono_ms();
  if (now < w->next_grace_check_ms) return;
  w->next_grace_check_ms = now + GRACE_CHECK_MS;
  for (uint32_t i = 0; i < w->sub_count && w->in_grace > 0; i++) {
    subscriber *s = w->subs[i];
    if (s->in_grace && s->conn != CONN_CLOSED && now >= s->grace_deadline_ms) sub_finish(w, s);
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  struct epoll_event events[EPOLL_BATCH];
  for (;;) {
    int n = epoll_wait(w->epfd, events, EPOLL_BATCH, w->in_grace > 0 ? GRACE_CHECK_MS : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    bool has_command = false;
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == NULL) has_command = true;
      else sub_on_event(w, events[i].data.ptr, events[i].events);
    }
    /* After the batch: a reset frees subscribers that later events of this batch point to. */
    if (has_command) {
      uint64_t v;
      ssize_t r = read(w->cmd_fd, &v, sizeof v);
      (void)r;
      if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) worker_run_command(w);
    }
    if (w->in_grace > 0) worker_check_graces(w);
  }
  return NULL;
}

void worker_start(worker *w, int id) {
  w->id = id;
  w->rbuf = xrealloc(NULL, READ_CHUNK_BYTES);
  w->rng = rng_seed() ^ ((uint64_t)id << 48);
  w->session_doc.max_nodes = MAX_SESSION_JSON_NODES;
  stats_reset(&w->stats);
  w->stats.scanner.offset_hint = w->stats.scanner.seq_hint = -1;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  w->cmd_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->epfd < 0 || w->cmd_fd < 0) die("epoll/eventfd: %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) die("pthread_create failed");
}
