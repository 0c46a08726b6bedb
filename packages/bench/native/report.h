/* Reports: every worker's snapshot merged into one PoolReport. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "strbuf.h"
#include "worker.h"

void report_init(void);
snapshot *take_snapshots(bool light);
uint64_t total_deliveries(const snapshot *s);
int64_t min_last_seq(const snapshot *s);
void report_json(strbuf *b);
