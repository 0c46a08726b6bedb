/* frame-decoder.ts: the server's frames, decoded in place from the read buffer where whole. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "bounds.h"

typedef struct worker worker;
typedef struct subscriber subscriber;

enum { OP_CONTINUATION = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xa };

enum decoder_state { DECODE_HEADER, DECODE_PAYLOAD };

/** One per connection: where decoding stands between reads. */
typedef struct {
  uint8_t state;
  uint8_t head_fill;
  bool fin;
  bool failed;
  uint8_t opcode;
  uint8_t message_opcode; /* of the fragmented message being assembled; 0 when none */
  uint8_t control_len;
  uint8_t head[10];
  uint64_t remaining;
  uint8_t *assembly;
  uint32_t assembly_len, assembly_cap;
  uint8_t control[MAX_CONTROL_PAYLOAD];
} frame_decoder;

void decoder_push(worker *w, subscriber *s, const uint8_t *b, long pos, long end);
