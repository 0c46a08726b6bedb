/* Topics: one record per topic name, with the subscription_update its subscribers send. */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct topic {
  char *name;
  size_t name_len;
  uint32_t id;
  char *subscribe_json; /* subscriber.ts: the subscription_update it sends */
  size_t subscribe_len;
} topic;

topic *topic_intern(const char *name, size_t n);
void forget_topics(void);
