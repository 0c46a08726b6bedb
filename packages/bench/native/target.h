/* Targets: where a connect command's subscribers connect, and the request head they send. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "json.h"

/** One `spec.request`: where to connect and the request head around Sec-WebSocket-Key. */
typedef struct target {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  bool has_local;
  struct sockaddr_storage local;
  socklen_t local_len;
  char *resolve_error; /* getaddrinfo failed: every subscriber fails with this */
  char *endpoint;      /* host:port for error messages */
  char *local_name;
  char *head_before_key, *head_after_key;
  size_t before_len, after_len;
} target;

target *target_from(const jdoc *d, int32_t request, char *error, size_t cap);
void forget_targets(void);
