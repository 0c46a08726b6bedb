/* handshake.ts: the upgrade response head, collected and checked against the subscriber's key. */
#define _GNU_SOURCE /* memmem */
#include "upgrade-response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "bounds.h"
#include "die.h"
#include "sha1.h"

static const char ACCEPT_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_js_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'; }

/** NULL when the head accepts our key, else the reason (in `reason`). */
static const char *upgrade_check(const subscriber *s, const char *head, size_t len, char *reason, size_t reason_cap) {
  const char *eol = memmem(head, len, "\r\n", 2);
  size_t status_len = eol == NULL ? len : (size_t)(eol - head);
  if (!(status_len >= 12 && memcmp(head, "HTTP/1.1 101", 12) == 0 && (status_len == 12 || !is_word_char(head[12])))) {
    snprintf(reason, reason_cap, "unexpected status: %.*s", (int)(status_len > 200 ? 200 : status_len), head);
    return reason;
  }
  uint8_t joined[64], digest[20];
  size_t key_len = strlen(s->key);
  memcpy(joined, s->key, key_len);
  memcpy(joined + key_len, ACCEPT_GUID, sizeof ACCEPT_GUID - 1);
  sha1(joined, key_len + sizeof ACCEPT_GUID - 1, digest);
  char expected[32];
  base64(digest, 20, expected);
  static const char name[] = "sec-websocket-accept:";
  size_t name_len = sizeof name - 1;
  for (size_t at = 0; at < len;) {
    const char *next = memmem(head + at, len - at, "\r\n", 2);
    size_t line_end = next == NULL ? len : (size_t)(next - head);
    const char *line = head + at;
    size_t n = line_end - at;
    if (n > name_len && strncasecmp(line, name, name_len) == 0) {
      size_t v = name_len, e = n;
      while (v < e && is_js_space(line[v])) v++;
      while (e > v && is_js_space(line[e - 1])) e--;
      if (e > v) {
        if (e - v == strlen(expected) && memcmp(line + v, expected, e - v) == 0) return NULL;
        break; /* the first Sec-WebSocket-Accept line decides */
      }
    }
    at = line_end + 2;
  }
  snprintf(reason, reason_cap, "bad Sec-WebSocket-Accept");
  return reason;
}

/** Accumulates the response head; returns the offset of the first frame byte in `b`, or -1. */
long upgrade_push(subscriber *s, const uint8_t *b, long n) {
  size_t old = s->head_len;
  size_t take = (size_t)n < MAX_RESPONSE_HEAD_BYTES - old ? (size_t)n : MAX_RESPONSE_HEAD_BYTES - old;
  s->head = xrealloc(s->head, old + take + 1);
  memcpy(s->head + old, b, take);
  s->head_len = (uint32_t)(old + take);
  size_t from = old >= 3 ? old - 3 : 0;
  const char *found = memmem(s->head + from, s->head_len - from, "\r\n\r\n", 4);
  if (found == NULL) {
    if (s->head_len >= MAX_RESPONSE_HEAD_BYTES) sub_fail(s, "upgrade refused: response head too large");
    return -1;
  }
  size_t head_end = (size_t)(found - s->head);
  char reason[300];
  if (upgrade_check(s, s->head, head_end, reason, sizeof reason) != NULL) {
    sub_fail(s, "upgrade refused: %s", reason);
    return -1;
  }
  free(s->head);
  s->head = NULL;
  s->head_len = 0;
  return (long)(head_end + 4 - old);
}
