/* sequence-tracker.ts: gaps and duplicates in a sequence of numbers. */
#pragma once

/* Header only: seq_observe runs for every delivery, inlined into session_on_text. */

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  int64_t last;
  bool started; /* false: the first value seen is the baseline (NaN in the Node class) */
  uint64_t gaps, duplicates;
} seq_tracker;

static inline void seq_init(seq_tracker *t, bool has_first, int64_t expected_first) {
  t->last = has_first ? expected_first - 1 : 0;
  t->started = has_first;
  t->gaps = t->duplicates = 0;
}

static inline void seq_observe(seq_tracker *t, int64_t value) {
  if (!t->started || value == t->last + 1) {
    t->last = value;
    t->started = true;
  } else if (value > t->last) {
    t->gaps += (uint64_t)(value - t->last - 1);
    t->last = value;
  } else {
    t->duplicates++;
  }
}
