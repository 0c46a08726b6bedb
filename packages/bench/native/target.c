/* Targets: where a connect command's subscribers connect, and the request head they send. */
#include "target.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "process-state.h"
#include "strbuf.h"

/** Buffer.from(text, 'latin1') of a UTF-8 string: each UTF-16 unit's low byte. */
static void sb_latin1(strbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    size_t len;
    if (c < 0x80) cp = c, len = 1;
    else if ((c & 0xE0) == 0xC0 && i + 1 < n) cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3F), len = 2;
    else if ((c & 0xF0) == 0xE0 && i + 2 < n) cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3F), len = 3;
    else if ((c & 0xF8) == 0xF0 && i + 3 < n) cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3F), len = 4;
    else cp = 0xFFFD, len = 1;
    if (cp >= 0x10000) {
      char pair[2] = {(char)(0xD800 + ((cp - 0x10000) >> 10)), (char)(0xDC00 + ((cp - 0x10000) & 0x3FF))};
      sb_put(b, pair, 2);
    } else {
      char one = (char)(cp & 0xFF);
      sb_put(b, &one, 1);
    }
    i += len;
  }
}

static const char *resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *out_len, char *error, size_t cap) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  int r = getaddrinfo(host, service, &hints, &found);
  if (r != 0 || found == NULL) {
    snprintf(error, cap, "getaddrinfo %s %s", r == EAI_NONAME ? "ENOTFOUND" : gai_strerror(r), host);
    return error;
  }
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *out_len = found->ai_addrlen;
  freeaddrinfo(found);
  return NULL;
}

/** A target from `spec.request` (handshake.ts UpgradeRequest); NULL with `error` on a bad spec. */
target *target_from(const jdoc *d, int32_t request, char *error, size_t cap) {
  int32_t host = json_get(d, request, "host"), port = json_get(d, request, "port"), path = json_get(d, request, "path");
  int32_t headers = json_get(d, request, "headers"), local = json_get(d, request, "localAddress");
  if (!json_is(d, request, J_OBJECT) || !json_is(d, host, J_STRING) || !json_is(d, path, J_STRING) || !json_is(d, port, J_NUMBER)) {
    snprintf(error, cap, "connect: spec.request needs host (string), port (number) and path (string)");
    return NULL;
  }
  double port_number = d->nodes[port].num;
  if (!(port_number >= 0 && port_number <= 65535) || port_number != (double)(int)port_number) {
    snprintf(error, cap, "connect: spec.request.port is not a port: %g", port_number);
    return NULL;
  }
  if (headers >= 0 && !json_is(d, headers, J_OBJECT) && !json_is(d, headers, J_NULL)) {
    snprintf(error, cap, "connect: spec.request.headers must be an object");
    return NULL;
  }
  if (local >= 0 && !json_is(d, local, J_STRING) && !json_is(d, local, J_NULL)) {
    snprintf(error, cap, "connect: spec.request.localAddress must be a string");
    return NULL;
  }
  target *t = xcalloc(1, sizeof *t);
  const char *host_name = d->nodes[host].str;
  int port_int = (int)port_number;
  strbuf endpoint = {0};
  sb_printf(&endpoint, "%s:%d", host_name, port_int);
  t->endpoint = endpoint.p;
  char why[300];
  if (resolve(host_name, port_int, &t->addr, &t->addr_len, why, sizeof why) != NULL) t->resolve_error = strdup(why);
  if (json_is(d, local, J_STRING)) {
    t->local_name = strdup(d->nodes[local].str);
    if (resolve(t->local_name, 0, &t->local, &t->local_len, why, sizeof why) != NULL) {
      if (t->resolve_error == NULL) t->resolve_error = strdup(why);
    } else {
      t->has_local = true;
    }
  }
  /* handshake.ts buildUpgradeRequest: no extensions offered (PROTOCOL.md §1). */
  strbuf before = {0}, after = {0}, text = {0};
  sb_printf(&text, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
            d->nodes[path].str, host_name, port_int);
  sb_latin1(&before, text.p, text.len);
  sb_free(&text);
  sb_puts(&text, "\r\nSec-WebSocket-Version: 13\r\n");
  if (json_is(d, headers, J_OBJECT)) {
    for (int32_t h = d->nodes[headers].child; h >= 0; h = d->nodes[h].next) {
      sb_put(&text, d->nodes[h].key, d->nodes[h].key_len);
      sb_puts(&text, ": ");
      json_js_string(&text, d, h);
      sb_puts(&text, "\r\n");
    }
  }
  sb_puts(&text, "\r\n");
  sb_latin1(&after, text.p, text.len);
  sb_free(&text);
  t->head_before_key = before.p;
  t->before_len = before.len;
  t->head_after_key = after.p;
  t->after_len = after.len;
  if (P.target_count == P.target_cap) {
    P.target_cap = P.target_cap == 0 ? 8 : P.target_cap * 2;
    P.targets = xrealloc(P.targets, P.target_cap * sizeof *P.targets);
  }
  P.targets[P.target_count++] = t;
  return t;
}

/** closeAll's reset of the connects' targets (workers hold no pointers any more). */
void forget_targets(void) {
  for (size_t i = 0; i < P.target_count; i++) {
    target *t = P.targets[i];
    free(t->resolve_error);
    free(t->endpoint);
    free(t->local_name);
    free(t->head_before_key);
    free(t->head_after_key);
    free(t);
  }
  P.target_count = 0;
}
