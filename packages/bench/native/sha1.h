/* SHA-1 (RFC 3174), only for Sec-WebSocket-Accept. */
#pragma once

#include <stddef.h>
#include <stdint.h>

void sha1(const uint8_t *data, size_t len, uint8_t out[20]);
