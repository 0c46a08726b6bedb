/* Base64, for Sec-WebSocket-Key and the Sec-WebSocket-Accept it must come back as. */
#pragma once

#include <stddef.h>
#include <stdint.h>

void base64(const uint8_t *in, size_t len, char *out);
