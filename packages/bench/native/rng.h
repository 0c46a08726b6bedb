/* Random numbers for mask keys and Sec-WebSocket-Key bytes. */
#pragma once

#include <stdint.h>

uint64_t rng_next(uint64_t *state);
uint64_t rng_seed(void);
