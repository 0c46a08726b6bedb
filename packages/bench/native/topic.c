/* Topics: one record per topic name, with the subscription_update its subscribers send. */
#include "topic.h"

#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "process-state.h"
#include "strbuf.h"

static uint32_t topic_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/** The one topic record of this name (subscribers keep pointers to it until closeAll). */
topic *topic_intern(const char *name, size_t n) {
  if ((P.topic_count + 1) * 2 > P.topic_index_cap) {
    uint32_t cap = P.topic_index_cap == 0 ? 64 : P.topic_index_cap * 2;
    uint32_t *index = xrealloc(NULL, cap * sizeof *index);
    for (uint32_t i = 0; i < cap; i++) index[i] = UINT32_MAX;
    for (uint32_t t = 0; t < P.topic_count; t++) {
      uint32_t at = topic_hash(P.topics[t]->name, P.topics[t]->name_len) & (cap - 1);
      while (index[at] != UINT32_MAX) at = (at + 1) & (cap - 1);
      index[at] = t;
    }
    free(P.topic_index);
    P.topic_index = index;
    P.topic_index_cap = cap;
  }
  uint32_t at = topic_hash(name, n) & (P.topic_index_cap - 1);
  for (; P.topic_index[at] != UINT32_MAX; at = (at + 1) & (P.topic_index_cap - 1)) {
    topic *t = P.topics[P.topic_index[at]];
    if (t->name_len == n && memcmp(t->name, name, n) == 0) return t;
  }
  topic *t = xcalloc(1, sizeof *t);
  t->name = xstrndup(name, n);
  t->name_len = n;
  t->id = P.topic_count;
  strbuf json = {0};
  sb_puts(&json, "{\"t\":\"subscription_update\",\"p\":{\"action\":\"subscribe\",\"topics\":[");
  sb_json_string(&json, name, n);
  sb_puts(&json, "]}}");
  t->subscribe_json = json.p;
  t->subscribe_len = json.len;
  if (P.topic_count == P.topic_cap) {
    P.topic_cap = P.topic_cap == 0 ? 16 : P.topic_cap * 2;
    P.topics = xrealloc(P.topics, P.topic_cap * sizeof *P.topics);
  }
  P.topics[P.topic_count++] = t;
  P.topic_index[at] = t->id;
  return t;
}

/** closeAll's reset of the connects' topics (workers hold no pointers any more). */
void forget_topics(void) {
  for (uint32_t i = 0; i < P.topic_count; i++) {
    free(P.topics[i]->name);
    free(P.topics[i]->subscribe_json);
    free(P.topics[i]);
  }
  P.topic_count = 0;
  for (uint32_t i = 0; i < P.topic_index_cap; i++) P.topic_index[i] = UINT32_MAX;
}
