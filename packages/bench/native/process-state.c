/* Process-wide state: the workers, the channel, the connects' targets and topics, shared counters. */
#include "process-state.h"

#include <string.h>
#include <unistd.h>

process_state P;

void wake_control(void) {
  uint64_t one = 1;
  ssize_t r = write(P.wake_fd, &one, sizeof one);
  (void)r;
}

void record_first_error(const char *message) {
  pthread_mutex_lock(&P.error_lock);
  if (P.first_error == NULL) P.first_error = strdup(message);
  pthread_mutex_unlock(&P.error_lock);
}
