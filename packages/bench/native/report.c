/* Reports: every worker's snapshot merged into one PoolReport. */
#include "report.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clocks.h"
#include "control.h"
#include "die.h"
#include "histogram.h"
#include "process-state.h"
#include "window.h"

static snapshot *snapshots;

/** One snapshot per worker, reused by every report. */
void report_init(void) { snapshots = xcalloc((size_t)P.threads, sizeof *snapshots); }

snapshot *take_snapshots(bool light) {
  for (int i = 0; i < P.threads; i++) {
    snapshot *s = &snapshots[i];
    s->topic_count = light ? 0 : P.topic_count;
    if (!light) {
      s->topic_subscribers = xcalloc(P.topic_count, sizeof(uint64_t));
      s->topic_deliveries = xcalloc(P.topic_count, sizeof(uint64_t));
    }
  }
  command c = {.kind = CMD_SNAPSHOT, .out = snapshots, .light = light};
  workers_run(&c);
  return snapshots;
}

uint64_t total_deliveries(const snapshot *s) {
  uint64_t n = 0;
  for (int i = 0; i < P.threads; i++) n += s[i].deliveries;
  return n;
}

/** subscriber-pool.ts minLastSeq: lowest last sequence over live subscribers; -1 without any. */
int64_t min_last_seq(const snapshot *s) {
  bool any = false;
  int64_t min = INT64_MAX;
  for (int i = 0; i < P.threads; i++) {
    if (!s[i].any_live) continue;
    any = true;
    if (s[i].min_last_seq < min) min = s[i].min_last_seq;
  }
  return any ? min : -1;
}

void report_json(strbuf *b) {
  /* A command answered without waiting (e.g. a settle already met) must still see a window edge
   * that has passed: otherwise the window's CPU figures would read 0. */
  window_fire_due();
  snapshot *s = take_snapshots(false);
  snapshot sum;
  memset(&sum, 0, sizeof sum);
  hist_reset(&sum.latency);
  int codes = 0;
  int code[MAX_CLOSE_CODES * 4];
  uint64_t code_count[MAX_CLOSE_CODES * 4];
  for (int i = 0; i < P.threads; i++) {
    sum.subscribers += s[i].subscribers;
    sum.live += s[i].live;
    sum.connect_failures += s[i].connect_failures;
    sum.deliveries += s[i].deliveries;
    sum.bytes += s[i].bytes;
    sum.window_deliveries += s[i].window_deliveries;
    sum.window_bytes += s[i].window_bytes;
    sum.other_frames += s[i].other_frames;
    sum.seq_gaps += s[i].seq_gaps;
    sum.seq_duplicates += s[i].seq_duplicates;
    sum.offset_gaps += s[i].offset_gaps;
    sum.offset_duplicates += s[i].offset_duplicates;
    hist_merge(&sum.latency, &s[i].latency);
    for (uint32_t k = 0; k < s[i].close_codes; k++) {
      int j = 0;
      while (j < codes && code[j] != s[i].close_code[k]) j++;
      if (j == codes) {
        if (codes == (int)(sizeof code / sizeof code[0])) j = codes - 1;
        else code[codes] = s[i].close_code[k], code_count[codes++] = 0;
      }
      code_count[j] += s[i].close_count[k];
    }
  }
  sb_printf(b, "{\"subscribers\":%llu,\"live\":%llu,\"connectFailures\":%llu,\"firstError\":",
            (unsigned long long)sum.subscribers, (unsigned long long)sum.live, (unsigned long long)sum.connect_failures);
  pthread_mutex_lock(&P.error_lock);
  const char *first = P.first_error == NULL ? "" : P.first_error;
  sb_json_string(b, first, strlen(first));
  pthread_mutex_unlock(&P.error_lock);
  sb_puts(b, ",\"closes\":{");
  for (int j = 0; j < codes; j++) sb_printf(b, "%s\"%d\":%llu", j == 0 ? "" : ",", code[j], (unsigned long long)code_count[j]);
  sb_printf(b,
            "},\"deliveries\":%llu,\"bytes\":%llu,\"windowDeliveries\":%llu,\"windowBytes\":%llu,\"otherFrames\":%llu,"
            "\"seqGaps\":%llu,\"seqDuplicates\":%llu,\"offsetGaps\":%llu,\"offsetDuplicates\":%llu,\"minLastSeq\":%lld,\"perTopic\":{",
            (unsigned long long)sum.deliveries, (unsigned long long)sum.bytes, (unsigned long long)sum.window_deliveries,
            (unsigned long long)sum.window_bytes, (unsigned long long)sum.other_frames, (unsigned long long)sum.seq_gaps,
            (unsigned long long)sum.seq_duplicates, (unsigned long long)sum.offset_gaps,
            (unsigned long long)sum.offset_duplicates, (long long)min_last_seq(s));
  bool first_topic = true;
  for (uint32_t t = 0; t < P.topic_count; t++) {
    uint64_t subs = 0, delivered = 0;
    for (int i = 0; i < P.threads; i++) subs += s[i].topic_subscribers[t], delivered += s[i].topic_deliveries[t];
    if (subs == 0) continue;
    if (!first_topic) sb_put(b, ",", 1);
    first_topic = false;
    sb_json_string(b, P.topics[t]->name, P.topics[t]->name_len);
    sb_printf(b, ":{\"subscribers\":%llu,\"deliveries\":%llu}", (unsigned long long)subs, (unsigned long long)delivered);
  }
  sb_printf(b, "},\"cpuMicros\":%lld,\"cpuWallMicros\":", (long long)win.cpu_micros);
  sb_number(b, win.cpu_wall_micros);
  sb_printf(b, ",\"cpuTotalMicros\":%lld,\"reportedAtMicros\":", (long long)cpu_total_us());
  sb_number(b, now_us());
  sb_puts(b, ",\"latency\":");
  hist_json(b, &sum.latency);
  sb_puts(b, "}");
  for (int i = 0; i < P.threads; i++) {
    free(s[i].topic_subscribers);
    free(s[i].topic_deliveries);
    s[i].topic_subscribers = s[i].topic_deliveries = NULL;
  }
}
