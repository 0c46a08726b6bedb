/* raw-websocket.ts: a subscriber's socket from connect through upgrade and reads to the close handshake. */
#include "subscriber.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base64.h"
#include "bounds.h"
#include "clocks.h"
#include "delivery-stats.h"
#include "die.h"
#include "errno-name.h"
#include "process-state.h"
#include "rng.h"
#include "subscriber-send.h"
#include "upgrade-response.h"
#include "worker.h"

void sub_fail(subscriber *s, const char *fmt, ...) {
  if (s->failure == NULL && s->conn != CONN_CLOSED) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    s->failure = strdup(message);
  }
  s->destroyed = true;
}

void sub_on_control(worker *w, subscriber *s, int opcode, const uint8_t *p, size_t len) {
  if (opcode == OP_PING) {
    if (s->conn == CONN_OPEN) sub_send_frame(w, s, OP_PONG, p, len);
  } else if (opcode == OP_CLOSE) {
    s->close_code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;
    sub_close(w, s, s->close_code == 1005 ? 1000 : s->close_code);
  }
}

void sub_release(worker *w, subscriber *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->in_grace) w->in_grace--;
  s->in_grace = false;
  free(s->out);
  free(s->head);
  free(s->dec.assembly);
  s->out = NULL;
  s->head = NULL;
  s->dec.assembly = NULL;
  s->out_len = s->head_len = s->dec.assembly_len = s->dec.assembly_cap = 0;
  s->conn = CONN_CLOSED;
  s->session = SESSION_CLOSED;
}

/** The socket's 'close': raw-websocket.ts finish → subscriber.ts onClose → subscriber-pool.ts onClosed. */
void sub_finish(worker *w, subscriber *s) {
  if (s->conn == CONN_CLOSED) return;
  sub_release(w, s);
  if (s->failure != NULL && s->last_error == NULL) s->last_error = strdup(s->failure);
  if (atomic_fetch_sub(&P.open, 1) == 1) wake_control();
  if (s->was_subscribed) {
    if (!atomic_load(&P.closing)) worker_count_close(w, s->close_code);
    return;
  }
  w->connect_failures++;
  if (s->last_error != NULL) {
    record_first_error(s->last_error);
  } else {
    char message[32];
    snprintf(message, sizeof message, "closed %d", s->close_code);
    record_first_error(message);
  }
  if (s->batch_gen == atomic_load(&P.batch_gen) && atomic_fetch_sub(&P.batch_unsettled, 1) == 1) wake_control();
}

/** Close handshake (RFC 6455 §5.5.1); the socket is destroyed if the peer does not finish it. */
void sub_close(worker *w, subscriber *s, int code) {
  if (s->conn == CONN_CLOSED) return;
  if (s->conn == CONN_CONNECTING || s->conn == CONN_UPGRADING) {
    /* No WebSocket yet: Node would end the socket and see 1006 at the latest after the grace. */
    s->destroyed = true;
    return;
  }
  if (s->conn == CONN_OPEN) {
    uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    sub_send_frame(w, s, OP_CLOSE, payload, 2);
  }
  s->conn = CONN_CLOSING;
  if (s->out_len > 0) s->shut_after_flush = true;
  else if (s->fd >= 0) shutdown(s->fd, SHUT_WR);
  if (!s->in_grace) {
    s->in_grace = true;
    s->grace_deadline_ms = mono_ms() + CLOSE_GRACE_MS;
    w->in_grace++;
  }
}

static void sub_on_connected(worker *w, subscriber *s) {
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
  if (error != 0) {
    sub_fail(s, "connect %s %s", errno_name(error), s->target->endpoint);
    return;
  }
  s->conn = CONN_UPGRADING;
  sub_watch(w, s, EPOLLIN);
  const target *t = s->target;
  size_t n = t->before_len + 24 + t->after_len;
  if (w->scratch_cap < n) {
    w->scratch = xrealloc(w->scratch, n);
    w->scratch_cap = n;
  }
  memcpy(w->scratch, t->head_before_key, t->before_len);
  memcpy(w->scratch + t->before_len, s->key, 24);
  memcpy(w->scratch + t->before_len + 24, t->head_after_key, t->after_len);
  sub_write(w, s, w->scratch, n);
}

static void sub_on_chunk(worker *w, subscriber *s, long n) {
  stats_on_read(&w->stats);
  if (s->conn != CONN_UPGRADING) {
    decoder_push(w, s, w->rbuf, 0, n);
    return;
  }
  long body = upgrade_push(s, w->rbuf, n);
  if (body < 0) return;
  s->conn = CONN_OPEN;
  decoder_push(w, s, w->rbuf, body, n);
}

static void sub_read(worker *w, subscriber *s) {
  for (int round = 0; round < MAX_READS_PER_EVENT && !s->destroyed; round++) {
    ssize_t n = read(s->fd, w->rbuf, READ_CHUNK_BYTES);
    if (n > 0) {
      sub_on_chunk(w, s, (long)n);
      if (n < READ_CHUNK_BYTES) return;
    } else if (n == 0) {
      s->destroyed = true; /* the peer ended: 'end', then 'close' */
      return;
    } else if (errno == EINTR) {
      continue;
    } else {
      if (errno != EAGAIN && errno != EWOULDBLOCK) sub_fail(s, "read %s", errno_name(errno));
      return;
    }
  }
}

void sub_on_event(worker *w, subscriber *s, uint32_t events) {
  if (s->conn == CONN_CLOSED) return;
  if (s->conn == CONN_CONNECTING) {
    sub_on_connected(w, s);
  } else {
    if ((events & EPOLLOUT) && s->out_len > 0) sub_flush(w, s);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !s->destroyed) sub_read(w, s);
  }
  if (s->destroyed) sub_finish(w, s);
}

void sub_create(worker *w, const target *t, const topic *tp, uint32_t gen) {
  subscriber *s = xcalloc(1, sizeof *s);
  s->fd = -1;
  s->conn = CONN_CONNECTING;
  s->session = SESSION_AWAIT_READY;
  s->close_code = 1006;
  s->batch_gen = gen;
  s->target = t;
  s->topic = tp;
  seq_init(&s->seq, true, 0);
  seq_init(&s->offsets, false, 0);
  uint8_t raw[16];
  uint64_t r1 = rng_next(&w->rng), r2 = rng_next(&w->rng);
  memcpy(raw, &r1, 8);
  memcpy(raw + 8, &r2, 8);
  base64(raw, 16, s->key);
  if (w->sub_count == w->sub_cap) {
    w->sub_cap = w->sub_cap == 0 ? 256 : w->sub_cap * 2;
    w->subs = xrealloc(w->subs, w->sub_cap * sizeof *w->subs);
  }
  w->subs[w->sub_count++] = s;
  atomic_fetch_add(&P.open, 1);

  if (t->resolve_error != NULL) {
    sub_fail(s, "%s", t->resolve_error);
  } else if ((s->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
    sub_fail(s, "connect %s %s", errno_name(errno), t->endpoint);
  } else {
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (t->has_local) {
#ifdef IP_BIND_ADDRESS_NO_PORT
      /* The port is chosen at connect(), per destination: each source address gives its own range. */
      setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      if (bind(s->fd, (const struct sockaddr *)&t->local, t->local_len) < 0) {
        sub_fail(s, "bind %s %s", errno_name(errno), t->local_name);
      }
    }
    if (!s->destroyed && connect(s->fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
      sub_fail(s, "connect %s %s", errno_name(errno), t->endpoint);
    }
    if (!s->destroyed) {
      struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
      if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) sub_fail(s, "epoll %s", errno_name(errno));
    }
  }
  if (s->destroyed) sub_finish(w, s);
}
