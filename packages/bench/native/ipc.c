/* The IPC channel to the Node parent: one JSON object per '\n'-terminated line, both directions. */
#include "ipc.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "clocks.h"
#include "die.h"
#include "process-state.h"
#include "reply.h"

static struct {
  char *buf;
  size_t len, cap;
  size_t line_start; /* where the incomplete last line begins in buf */
  bool discarding;   /* a line over MAX_IPC_LINE_BYTES: dropped, its id looked for in its tail */
  char tail[64];
  size_t tail_len;
} ipc;

static void ipc_keep_tail(const char *p, size_t n) {
  if (n >= sizeof ipc.tail) {
    memcpy(ipc.tail, p + n - sizeof ipc.tail, sizeof ipc.tail);
    ipc.tail_len = sizeof ipc.tail;
    return;
  }
  size_t keep = ipc.tail_len + n > sizeof ipc.tail ? sizeof ipc.tail - n : ipc.tail_len;
  memmove(ipc.tail, ipc.tail + ipc.tail_len - keep, keep);
  memcpy(ipc.tail + keep, p, n);
  ipc.tail_len = keep + n;
}

/** The end of an over-long line: answered with an error if its id can be found. */
static void ipc_discarded_line(void) {
  char tail[sizeof ipc.tail + 1], message[128];
  memcpy(tail, ipc.tail, ipc.tail_len);
  tail[ipc.tail_len] = '\0';
  snprintf(message, sizeof message, "command line longer than %u bytes", MAX_IPC_LINE_BYTES);
  /* LoadClient writes `{...body, id}`: the id is the last member. */
  const char *at = strstr(tail, "\"id\":");
  if (at != NULL) reply_error(strtod(at + 5, NULL), message);
  else fprintf(stderr, "wse-load: %s, no id found; dropped\n", message);
}

static void ipc_append(const char *p, size_t n) {
  while (n > 0) {
    if (ipc.discarding) {
      const char *nl = memchr(p, '\n', n);
      size_t upto = nl == NULL ? n : (size_t)(nl - p);
      ipc_keep_tail(p, upto);
      if (nl == NULL) return;
      ipc.discarding = false;
      ipc_discarded_line();
      p += upto + 1, n -= upto + 1;
      continue;
    }
    const char *nl = memchr(p, '\n', n);
    size_t upto = nl == NULL ? n : (size_t)(nl - p) + 1;
    if (ipc.len - ipc.line_start + upto > MAX_IPC_LINE_BYTES) {
      ipc.discarding = true;
      ipc.tail_len = 0;
      ipc_keep_tail(ipc.buf + ipc.line_start, ipc.len - ipc.line_start);
      ipc.len = ipc.line_start;
      continue;
    }
    if (ipc.len + upto + 1 > ipc.cap) {
      size_t cap = ipc.cap == 0 ? 65536 : ipc.cap;
      while (cap < ipc.len + upto + 1) cap *= 2;
      ipc.buf = xrealloc(ipc.buf, cap);
      ipc.cap = cap;
    }
    memcpy(ipc.buf + ipc.len, p, upto);
    ipc.len += upto;
    if (nl != NULL) ipc.line_start = ipc.len;
    p += upto, n -= upto;
  }
}

/** Reads what the channel holds (it is non-blocking); exits when the parent closed it. */
void ipc_fill(void) {
  char chunk[65536];
  for (int round = 0; round < 64; round++) {
    ssize_t n = read(P.ipc_fd, chunk, sizeof chunk);
    if (n == 0) exit(0); /* load-process.ts: exit when the channel closes */
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == ECONNRESET) exit(0);
      die("IPC read: %s", strerror(errno));
    }
    ipc_append(chunk, (size_t)n);
  }
}

/**
 * The next whole line, without its '\n', in a copy the caller frees; NULL while none is whole.
 * Copied out: waits inside a command read more of the channel into ipc.buf.
 */
char *ipc_take_line(size_t *len) {
  char *nl = ipc.len > 0 ? memchr(ipc.buf, '\n', ipc.len) : NULL;
  if (nl == NULL) return NULL;
  size_t n = (size_t)(nl - ipc.buf);
  char *line = xstrndup(ipc.buf, n);
  memmove(ipc.buf, nl + 1, ipc.len - n - 1);
  ipc.len -= n + 1;
  ipc.line_start -= n + 1;
  *len = n;
  return line;
}

void ipc_write(const char *data, size_t n) {
  int64_t deadline = mono_ms() + IPC_WRITE_TIMEOUT_MS;
  while (n > 0) {
    ssize_t k = write(P.ipc_fd, data, n);
    if (k > 0) {
      data += k;
      n -= (size_t)k;
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && mono_ms() < deadline) {
      struct pollfd p = {.fd = P.ipc_fd, .events = POLLOUT};
      poll(&p, 1, 100);
      continue;
    }
    if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) exit(0); /* the parent is gone */
    die("IPC write failed: %s", k < 0 ? strerror(errno) : "no progress");
  }
}
