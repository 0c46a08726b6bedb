/* subscriber.ts: a subscriber's session: server_ready, the subscription, then its deliveries. */
#define _GNU_SOURCE /* memmem */
#include "session.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "delivery-stats.h"
#include "json.h"
#include "process-state.h"
#include "publication-scanner.h"
#include "sequence-tracker.h"
#include "strbuf.h"
#include "subscriber-send.h"
#include "worker.h"

/* subscriber.ts: PROTOCOL.md §5, what the original's load client sends. */
static const char CLIENT_HELLO[] = "{\"t\":\"client_hello\",\"p\":{\"client_version\":\"wse-bench/0.1.0\",\"protocol_version\":1}}";
static const char PONG_TEXT[] = "{\"c\":\"WSE\",\"t\":\"PONG\",\"p\":{},\"v\":1}";

static void session_subscribe_reply(worker *w, subscriber *s, const jdoc *d, int32_t payload) {
  int32_t topics = json_get(d, payload, "success_topics");
  if (json_is(d, topics, J_ARRAY)) {
    for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) {
      if (!json_str_eq(d, c, s->topic->name, s->topic->name_len)) continue;
      s->session = SESSION_LIVE;
      s->was_subscribed = true;
      if (s->batch_gen == atomic_load(&P.batch_gen) && atomic_fetch_sub(&P.batch_unsettled, 1) == 1) wake_control();
      return;
    }
  }
  strbuf why = {0};
  sb_puts(&why, "subscribe refused: ");
  int32_t failed = json_get(d, payload, "failed_topics");
  if (failed >= 0 && !json_is(d, failed, J_NULL)) json_restringify(&why, d, failed);
  else if (payload >= 0) json_restringify(&why, d, payload);
  else sb_puts(&why, "{}");
  free(s->last_error);
  s->last_error = why.p;
  sub_close(w, s, 1000);
}

/** Before the subscription is confirmed: server_ready, the subscribe reply, or an error. */
static void session_message(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  long len = end - start;
  if (len < 2 || b[start] != '{' || len > MAX_SESSION_MESSAGE_BYTES) return;
  jdoc *d = &w->session_doc;
  int32_t root = json_parse(d, (const char *)b + start, (size_t)len);
  if (!json_is(d, root, J_OBJECT)) return;
  int32_t type = json_get(d, root, "t");
  int32_t payload = json_get(d, root, "p");
  if (json_is(d, payload, J_NULL)) payload = -1;
  if (json_str_eq(d, type, "server_ready", 12) && s->session == SESSION_AWAIT_READY) {
    s->session = SESSION_SUBSCRIBING;
    sub_send_text(w, s, CLIENT_HELLO, sizeof CLIENT_HELLO - 1);
    sub_send_text(w, s, s->topic->subscribe_json, s->topic->subscribe_len);
  } else if (json_str_eq(d, type, "subscription_update", 19) && s->session == SESSION_SUBSCRIBING) {
    session_subscribe_reply(w, s, d, payload);
  } else if (json_str_eq(d, type, "error", 5)) {
    strbuf why = {0};
    json_js_string(&why, d, json_get(d, payload, "code"));
    sb_puts(&why, ": ");
    json_js_string(&why, d, json_get(d, payload, "message"));
    free(s->last_error);
    s->last_error = why.p;
  }
}

void session_on_text(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  if (s->session != SESSION_LIVE) {
    session_message(w, s, b, start, end);
    return;
  }
  pub_scanner *sc = &w->stats.scanner;
  if (!scan_publication(sc, b, start, end)) {
    w->stats.other_frames++;
    /* PROTOCOL.md §6: answer the server's ping so an idle timeout never closes a listener. */
    long head = end - start < 40 ? end - start : 40;
    if (memmem(b + start, (size_t)head, "\"t\":\"ping\"", 10) != NULL) sub_send_text(w, s, PONG_TEXT, sizeof PONG_TEXT - 1);
    return;
  }
  s->delivered++;
  if (sc->seq >= 0) seq_observe(&s->seq, sc->seq);
  seq_observe(&s->offsets, sc->offset);
  stats_record(&w->stats, (uint64_t)(end - start), sc->ts);
}

void session_on_binary(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  if (s->session != SESSION_LIVE) session_message(w, s, b, start, end);
  else w->stats.other_frames++;
}
