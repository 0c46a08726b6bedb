/* Random numbers for mask keys and Sec-WebSocket-Key bytes. */
#include "rng.h"

#include <sys/random.h>
#include <unistd.h>

#include "clocks.h"

/** splitmix64: mask keys and Sec-WebSocket-Key bytes (RFC 6455 asks unpredictable, not secret). */
uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rng_seed(void) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32);
  return seed;
}
