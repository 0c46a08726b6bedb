/* The control thread's waits, which keep the channel, the workers and the window timers serviced. */
#pragma once

#include <stdint.h>

#include "worker.h"

void control_poll(int64_t timeout_ms);
void workers_run(const command *c);
