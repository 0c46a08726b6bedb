/* Process-wide state: the workers, the channel, the connects' targets and topics, shared counters. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target.h"
#include "topic.h"

typedef struct worker worker;

typedef struct {
  int threads;
  worker *workers;
  int ipc_fd;
  int wake_fd; /* workers tell the control thread a count reached zero or a command finished */
  topic **topics;
  uint32_t topic_count, topic_cap;
  uint32_t *topic_index; /* open addressing over topics, by name */
  uint32_t topic_index_cap;
  target **targets;
  size_t target_count, target_cap;
  uint64_t next_subscriber; /* round robin over workers */
  _Atomic int64_t batch_unsettled;
  _Atomic uint32_t batch_gen;
  _Atomic int64_t open;
  _Atomic bool closing;
  pthread_mutex_t error_lock;
  char *first_error;
} process_state;

extern process_state P;

void wake_control(void);
void record_first_error(const char *message);
