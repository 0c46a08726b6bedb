/* A subscriber: one WebSocket connection and its session, touched only by its worker. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "frame-decoder.h"
#include "sequence-tracker.h"
#include "target.h"
#include "topic.h"

typedef struct worker worker;

enum conn_phase { CONN_CONNECTING, CONN_UPGRADING, CONN_OPEN, CONN_CLOSING, CONN_CLOSED };
enum session_phase { SESSION_AWAIT_READY, SESSION_SUBSCRIBING, SESSION_LIVE, SESSION_CLOSED };

typedef struct subscriber {
  int fd;
  uint8_t conn;
  uint8_t session;
  bool was_subscribed;
  bool destroyed;        /* finish after the current event (raw-websocket.ts destroy → 'close') */
  bool shut_after_flush; /* socket.end(): FIN once the pending bytes are out */
  bool in_grace;
  uint32_t batch_gen;
  int close_code;        /* the peer's close code; 1005 without one, 1006 when none came */
  int64_t grace_deadline_ms;
  const target *target;
  const topic *topic;
  uint64_t delivered;
  seq_tracker seq;       /* the publisher's sequence: every run starts at 0 */
  seq_tracker offsets;   /* the server's offset: the first one seen is the baseline */
  char key[25];
  char *head;            /* upgrade response head while it arrives */
  uint32_t head_len;
  uint8_t *out;          /* bytes the kernel has not taken yet */
  uint32_t out_len;
  char *last_error;
  char *failure;
  frame_decoder dec;
} subscriber;

void sub_create(worker *w, const target *t, const topic *tp, uint32_t gen);
void sub_on_event(worker *w, subscriber *s, uint32_t events);
void sub_on_control(worker *w, subscriber *s, int opcode, const uint8_t *p, size_t len);
void sub_fail(subscriber *s, const char *fmt, ...);
void sub_close(worker *w, subscriber *s, int code);
void sub_finish(worker *w, subscriber *s);
void sub_release(worker *w, subscriber *s);
