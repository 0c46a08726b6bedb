/* Worker threads: an epoll loop each over a share of the subscribers, told what to do through a mailbox. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"
#include "delivery-stats.h"
#include "histogram.h"
#include "json.h"
#include "subscriber.h"
#include "target.h"
#include "topic.h"

/** One worker's counters, copied out on CMD_SNAPSHOT for report.c to merge. */
typedef struct {
  uint64_t subscribers, live, connect_failures;
  uint64_t deliveries, bytes, window_deliveries, window_bytes, other_frames;
  uint64_t seq_gaps, seq_duplicates, offset_gaps, offset_duplicates;
  int64_t min_last_seq;
  bool any_live;
  uint32_t topic_count;
  uint64_t *topic_subscribers, *topic_deliveries;
  uint32_t close_codes;
  int close_code[MAX_CLOSE_CODES];
  uint64_t close_count[MAX_CLOSE_CODES];
  histogram latency;
} snapshot;

enum command_kind { CMD_OPEN = 1, CMD_WINDOW, CMD_SNAPSHOT, CMD_CLOSE_ALL, CMD_RESET };

/** What the control thread asks of every worker (workers_run in control.c). */
typedef struct {
  enum command_kind kind;
  /* CMD_OPEN: subscribers first_subscriber + i, i < count, each on worker (first_subscriber + i) % threads */
  const target *target;
  topic **topics;
  uint32_t topic_count;
  uint64_t topic_base; /* spec.offset + opened so far */
  uint64_t first_subscriber;
  uint32_t count;
  uint32_t gen;
  /* CMD_WINDOW */
  double start_us, end_us;
  /* CMD_SNAPSHOT */
  snapshot *out;
  bool light; /* counters only: no topics, no histogram */
} command;

struct worker {
  int id;
  pthread_t thread;
  int epfd;
  int cmd_fd;
  command cmd;
  _Atomic int cmd_pending;
  uint8_t *rbuf;
  uint8_t *scratch;
  size_t scratch_cap;
  uint64_t rng;
  subscriber **subs;
  uint32_t sub_count, sub_cap;
  uint32_t in_grace;
  int64_t next_grace_check_ms;
  delivery_stats stats;
  uint64_t connect_failures;
  uint32_t close_codes;
  int close_code[MAX_CLOSE_CODES];
  uint64_t close_count[MAX_CLOSE_CODES];
  jdoc session_doc;
};

void worker_start(worker *w, int id);
void worker_count_close(worker *w, int code);
