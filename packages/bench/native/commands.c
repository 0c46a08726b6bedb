/* Commands (load-process.ts execute): one line from the parent, run and answered exactly once. */
#define _GNU_SOURCE /* memmem */
#include "commands.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "clocks.h"
#include "control.h"
#include "die.h"
#include "json.h"
#include "process-state.h"
#include "reply.h"
#include "report.h"
#include "strbuf.h"
#include "target.h"
#include "topic.h"
#include "window.h"
#include "worker.h"

static bool number_member(const jdoc *d, int32_t obj, const char *key, double *out) {
  int32_t v = json_get(d, obj, key);
  if (!json_is(d, v, J_NUMBER)) return false;
  *out = d->nodes[v].num;
  return true;
}

/** Opens one batch and waits until every one of its subscribers subscribed or failed. */
static bool open_batch(const target *t, topic **topics, uint32_t topic_count, uint64_t topic_base, uint32_t size, double timeout_ms) {
  uint32_t gen = atomic_fetch_add(&P.batch_gen, 1) + 1;
  atomic_store(&P.batch_unsettled, (int64_t)size);
  int64_t deadline = mono_ms() + (int64_t)timeout_ms;
  command c = {.kind = CMD_OPEN, .target = t, .topics = topics, .topic_count = topic_count, .topic_base = topic_base,
               .first_subscriber = P.next_subscriber, .count = size, .gen = gen};
  P.next_subscriber += size;
  workers_run(&c);
  while (atomic_load(&P.batch_unsettled) > 0) {
    int64_t left = deadline - mono_ms();
    if (left <= 0) return false;
    control_poll(left < 10 ? left : 10);
  }
  return true;
}

static void command_connect(double id, const jdoc *d, int32_t spec) {
  char error[512];
  double offset, count, batch, batch_timeout;
  int32_t topics = json_get(d, spec, "topics");
  if (!json_is(d, spec, J_OBJECT) || !number_member(d, spec, "offset", &offset) || !number_member(d, spec, "count", &count) ||
      !number_member(d, spec, "batch", &batch) || !number_member(d, spec, "batchTimeoutMs", &batch_timeout)) {
    reply_error(id, "connect: spec needs offset, count, batch and batchTimeoutMs (numbers)");
    return;
  }
  if (!(offset >= 0 && offset < 9e15) || !(count >= 0 && count <= 1e8) || !(batch >= 1) || !(batch_timeout >= 0 && batch_timeout < 1e10)) {
    reply_error(id, "connect: spec.offset, count, batchTimeoutMs must be >= 0 and spec.batch >= 1");
    return;
  }
  uint32_t topic_count = 0;
  if (json_is(d, topics, J_ARRAY)) {
    for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) {
      if (!json_is(d, c, J_STRING)) topic_count = MAX_TOPICS + 1;
      else topic_count++;
    }
  }
  if (topic_count == 0 || topic_count > MAX_TOPICS) {
    reply_error(id, "connect: spec.topics must be a non-empty array of strings");
    return;
  }
  target *t = target_from(d, json_get(d, spec, "request"), error, sizeof error);
  if (t == NULL) {
    reply_error(id, error);
    return;
  }
  /* Interned topics stay valid until closeAll; the spec's own list only for this command. */
  topic **list = xcalloc(topic_count, sizeof *list);
  uint32_t k = 0;
  for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) list[k++] = topic_intern(d->nodes[c].str, d->nodes[c].str_len);
  atomic_store(&P.closing, false);
  uint64_t total = (uint64_t)count, size_max = batch > 1e8 ? 100000000 : (uint64_t)batch;
  bool in_time = true;
  for (uint64_t opened = 0; opened < total && in_time;) {
    uint32_t size = (uint32_t)(size_max < total - opened ? size_max : total - opened);
    in_time = open_batch(t, list, topic_count, (uint64_t)offset + opened, size, batch_timeout);
    opened += size;
  }
  free(list);
  if (!in_time) {
    strbuf m = {0};
    sb_puts(&m, "subscribers not ready after ");
    sb_number(&m, batch_timeout);
    sb_puts(&m, " ms");
    reply_error(id, m.p);
    sb_free(&m);
    return;
  }
  reply_ok(id, true);
}

static void command_window(double id, const jdoc *d, int32_t root) {
  double start, end;
  if (!number_member(d, root, "startUs", &start) || !number_member(d, root, "endUs", &end)) {
    reply_error(id, "window: startUs and endUs must be numbers");
    return;
  }
  command c = {.kind = CMD_WINDOW, .start_us = start, .end_us = end};
  workers_run(&c);
  /* atMicros: an edge further away than a timer's range (an open window) never comes. */
  double now = now_us();
  win.start_us = start;
  win.end_us = end;
  win.start_armed = (start - now) / 1000 < (double)MAX_TIMER_MS;
  win.end_armed = (end - now) / 1000 < (double)MAX_TIMER_MS;
  window_fire_due();
  reply_ok(id, false);
}

/**
 * Returns when every live subscriber has seen `lastSeq`, when deliveries stop arriving for
 * `quietMs`, or at `timeoutMs`: whichever comes first. The report then says which it was.
 */
static void command_settle(double id, const jdoc *d, int32_t root) {
  double last_seq, quiet_ms, timeout_ms;
  if (!number_member(d, root, "lastSeq", &last_seq) || !number_member(d, root, "quietMs", &quiet_ms) ||
      !number_member(d, root, "timeoutMs", &timeout_ms)) {
    reply_error(id, "settle: lastSeq, quietMs and timeoutMs must be numbers");
    return;
  }
  int64_t deadline = mono_ms() + (int64_t)(timeout_ms < 1e10 ? timeout_ms : 1e10);
  int64_t quiet_since = mono_ms();
  uint64_t last_count = UINT64_MAX;
  while (mono_ms() < deadline) {
    snapshot *s = take_snapshots(true);
    if ((double)min_last_seq(s) >= last_seq) break;
    uint64_t delivered = total_deliveries(s);
    if (delivered != last_count) {
      last_count = delivered;
      quiet_since = mono_ms();
    } else if (mono_ms() - quiet_since >= (int64_t)quiet_ms) {
      break;
    }
    int64_t until = mono_ms() + SETTLE_POLL_MS;
    while (mono_ms() < until) control_poll(until - mono_ms());
  }
  window_end_at_settle();
  reply_ok(id, true);
}

/** Closes every subscriber (close handshake, destroyed after a grace) and resets the counters. */
static void command_close(double id, const jdoc *d, int32_t root) {
  double timeout_ms;
  if (!number_member(d, root, "timeoutMs", &timeout_ms)) {
    reply_error(id, "close: timeoutMs must be a number");
    return;
  }
  atomic_store(&P.closing, true);
  if (atomic_load(&P.open) > 0) {
    command c = {.kind = CMD_CLOSE_ALL};
    workers_run(&c);
    int64_t deadline = mono_ms() + (int64_t)(timeout_ms < 1e10 ? timeout_ms : 1e10);
    while (atomic_load(&P.open) > 0 && mono_ms() < deadline) control_poll(10);
  }
  command reset = {.kind = CMD_RESET};
  workers_run(&reset);
  forget_targets();
  forget_topics();
  P.next_subscriber = 0;
  pthread_mutex_lock(&P.error_lock);
  free(P.first_error);
  P.first_error = NULL;
  pthread_mutex_unlock(&P.error_lock);
  memset(&win, 0, sizeof win);
  reply_ok(id, false);
}

static jdoc command_doc = {.max_nodes = MAX_COMMAND_JSON_NODES};

void execute_line(char *line, size_t len) {
  jdoc *d = &command_doc;
  int32_t root = json_parse(d, line, len);
  int32_t id_node = root >= 0 ? json_get(d, root, "id") : -1;
  if (!json_is(d, id_node, J_NUMBER)) {
    /* LoadClient writes `{...body, id}`: a command it could not parse may still show its id. */
    const char *at = len > 0 ? memmem(line, len, "\"id\":", 5) : NULL;
    char message[256];
    snprintf(message, sizeof message, "bad command: %s", root < 0 ? d->error : "no numeric id");
    if (at != NULL) reply_error(strtod(at + 5, NULL), message);
    else fprintf(stderr, "wse-load: %s; dropped\n", message);
    return;
  }
  double id = d->nodes[id_node].num;
  int32_t op = json_get(d, root, "op");
  if (json_str_eq(d, op, "connect", 7)) command_connect(id, d, json_get(d, root, "spec"));
  else if (json_str_eq(d, op, "window", 6)) command_window(id, d, root);
  else if (json_str_eq(d, op, "settle", 6)) command_settle(id, d, root);
  else if (json_str_eq(d, op, "report", 6)) reply_ok(id, true);
  else if (json_str_eq(d, op, "close", 5)) command_close(id, d, root);
  else reply_error(id, "unknown op");
}
