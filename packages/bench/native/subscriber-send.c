/* What a subscriber sends: masked client frames, written now or buffered until the socket drains. */
#include "subscriber-send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bounds.h"
#include "die.h"
#include "errno-name.h"
#include "rng.h"
#include "worker.h"

void sub_watch(worker *w, subscriber *s, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = s};
  epoll_ctl(w->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

void sub_write(worker *w, subscriber *s, const uint8_t *data, size_t n) {
  if (s->destroyed || s->fd < 0) return;
  if (s->out_len == 0) {
    ssize_t k = send(s->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k == (ssize_t)n) return;
    if (k < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sub_fail(s, "write %s", errno_name(errno));
        return;
      }
      k = 0;
    }
    data += k;
    n -= (size_t)k;
    sub_watch(w, s, EPOLLIN | EPOLLOUT);
  }
  if (s->out_len + n > MAX_PENDING_WRITE_BYTES) {
    sub_fail(s, "write buffer over %d bytes", MAX_PENDING_WRITE_BYTES);
    return;
  }
  s->out = xrealloc(s->out, s->out_len + n);
  memcpy(s->out + s->out_len, data, n);
  s->out_len += (uint32_t)n;
}

void sub_flush(worker *w, subscriber *s) {
  while (s->out_len > 0) {
    ssize_t k = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) sub_fail(s, "write %s", errno_name(errno));
      return;
    }
    memmove(s->out, s->out + k, s->out_len - (size_t)k);
    s->out_len -= (uint32_t)k;
  }
  free(s->out);
  s->out = NULL;
  sub_watch(w, s, EPOLLIN);
  if (s->shut_after_flush) shutdown(s->fd, SHUT_WR);
}

/** client-frame.ts: one final masked frame. */
void sub_send_frame(worker *w, subscriber *s, int opcode, const uint8_t *payload, size_t len) {
  size_t need = len + 14;
  if (w->scratch_cap < need) {
    w->scratch = xrealloc(w->scratch, need);
    w->scratch_cap = need;
  }
  uint8_t *f = w->scratch;
  size_t pos = 0;
  f[pos++] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    f[pos++] = (uint8_t)(0x80 | len);
  } else if (len < 0x10000) {
    f[pos++] = 0x80 | 126;
    f[pos++] = (uint8_t)(len >> 8);
    f[pos++] = (uint8_t)len;
  } else {
    f[pos++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) f[pos++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint32_t key = (uint32_t)rng_next(&w->rng);
  uint8_t mask[4] = {(uint8_t)(key >> 24), (uint8_t)(key >> 16), (uint8_t)(key >> 8), (uint8_t)key};
  memcpy(f + pos, mask, 4);
  pos += 4;
  for (size_t i = 0; i < len; i++) f[pos + i] = payload[i] ^ mask[i & 3];
  sub_write(w, s, f, pos + len);
}

void sub_send_text(worker *w, subscriber *s, const char *text, size_t len) {
  if (s->conn == CONN_OPEN) sub_send_frame(w, s, OP_TEXT, (const uint8_t *)text, len);
}
