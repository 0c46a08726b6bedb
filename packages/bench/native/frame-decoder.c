/* frame-decoder.ts: the server's frames, decoded in place from the read buffer where whole. */
#include "frame-decoder.h"

#include <string.h>

#include "die.h"
#include "session.h"
#include "subscriber.h"

static bool decoder_fail(subscriber *s, const char *code) {
  s->dec.failed = true;
  sub_fail(s, "bad frame from server: %s", code); /* raw-websocket.ts onFrameError */
  return false;
}

static inline void decoder_emit(worker *w, subscriber *s, int opcode, const uint8_t *b, long start, long end) {
  if (opcode == OP_TEXT) {
    if (s->conn == CONN_OPEN) session_on_text(w, s, b, start, end);
  } else if (opcode == OP_BINARY) {
    if (s->conn == CONN_OPEN) session_on_binary(w, s, b, start, end);
  } else {
    sub_on_control(w, s, opcode, b + start, (size_t)(end - start));
  }
}

static inline unsigned header_length(uint8_t b1) {
  unsigned len7 = b1 & 0x7f;
  return len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
}

/** Payload length of a complete header; lengths beyond 2^53 read as UINT64_MAX (Infinity in Node). */
static inline uint64_t payload_length(const uint8_t *h) {
  unsigned len7 = h[1] & 0x7f;
  if (len7 < 126) return len7;
  if (len7 == 126) return (uint64_t)h[2] << 8 | h[3];
  uint64_t v = 0;
  for (int i = 2; i < 10; i++) v = v << 8 | h[i];
  return v > (1ULL << 53) ? UINT64_MAX : v;
}

/** RFC 6455 §5.2, §5.5: false when the stream is now unusable. */
static bool decoder_begin_frame(subscriber *s, uint8_t b0, uint8_t b1, uint64_t length) {
  frame_decoder *d = &s->dec;
  int opcode = b0 & 0x0f;
  d->fin = (b0 & 0x80) != 0;
  d->opcode = (uint8_t)opcode;
  if (b0 & 0x70) return decoder_fail(s, "RESERVED_BITS");
  if (b1 & 0x80) return decoder_fail(s, "MASKED_SERVER_FRAME");
  if (opcode & 0x08) {
    if (opcode > OP_PONG) return decoder_fail(s, "BAD_OPCODE");
    if (!d->fin || length > MAX_CONTROL_PAYLOAD) return decoder_fail(s, "BAD_CONTROL_FRAME");
    return true;
  }
  if (opcode > OP_BINARY) return decoder_fail(s, "BAD_OPCODE");
  if (opcode == OP_CONTINUATION && d->message_opcode == 0) return decoder_fail(s, "UNEXPECTED_CONTINUATION");
  if (opcode != OP_CONTINUATION && d->message_opcode != 0) return decoder_fail(s, "INTERLEAVED_MESSAGE");
  if (length > MAX_MESSAGE_BYTES || d->assembly_len + length > MAX_MESSAGE_BYTES) return decoder_fail(s, "MESSAGE_TOO_LARGE");
  return true;
}

static void decoder_finish_frame(worker *w, subscriber *s) {
  frame_decoder *d = &s->dec;
  d->state = DECODE_HEADER;
  if (d->opcode & 0x08) {
    size_t len = d->control_len;
    d->control_len = 0;
    sub_on_control(w, s, d->opcode, d->control, len);
    return;
  }
  if (d->opcode != OP_CONTINUATION) d->message_opcode = d->opcode;
  if (!d->fin) return;
  int opcode = d->message_opcode;
  long len = d->assembly_len;
  d->message_opcode = 0;
  d->assembly_len = 0;
  decoder_emit(w, s, opcode, d->assembly, 0, len);
}

static long decoder_start_payload(worker *w, subscriber *s, long pos, uint64_t length) {
  s->dec.remaining = length;
  s->dec.state = DECODE_PAYLOAD;
  if (length == 0) decoder_finish_frame(w, s);
  return pos;
}

static long decoder_collect_payload(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  uint64_t avail = (uint64_t)(end - pos);
  size_t take = (size_t)(d->remaining < avail ? d->remaining : avail);
  if (d->opcode & 0x08) {
    memcpy(d->control + d->control_len, b + pos, take);
    d->control_len += (uint8_t)take;
  } else {
    size_t need = (size_t)d->assembly_len + take;
    if (need > d->assembly_cap) {
      size_t cap = d->assembly_cap == 0 ? INITIAL_ASSEMBLY_BYTES : d->assembly_cap;
      while (cap < need) cap *= 2;
      if (cap > MAX_MESSAGE_BYTES) cap = MAX_MESSAGE_BYTES;
      d->assembly = xrealloc(d->assembly, cap);
      d->assembly_cap = (uint32_t)cap;
    }
    memcpy(d->assembly + d->assembly_len, b + pos, take);
    d->assembly_len += (uint32_t)take;
  }
  d->remaining -= take;
  if (d->remaining == 0) decoder_finish_frame(w, s);
  return pos + (long)take;
}

static long decoder_collect_header(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  if (d->head_fill < 2) {
    d->head[d->head_fill++] = b[pos++];
    return pos;
  }
  long need = header_length(d->head[1]);
  long take = need - d->head_fill < end - pos ? need - d->head_fill : end - pos;
  memcpy(d->head + d->head_fill, b + pos, (size_t)take);
  d->head_fill += (uint8_t)take;
  pos += take;
  if (d->head_fill < need) return pos;
  d->head_fill = 0;
  uint64_t length = payload_length(d->head);
  if (!decoder_begin_frame(s, d->head[0], d->head[1], length)) return end;
  return decoder_start_payload(w, s, pos, length);
}

/** Fast path: header parsed straight from the read buffer, payload handed over in place if whole. */
static inline long decoder_header_in_place(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  long available = end - pos;
  long head_len = available >= 2 ? (long)header_length(b[pos + 1]) : 10;
  if (available < head_len) {
    memcpy(d->head, b + pos, (size_t)available);
    d->head_fill = (uint8_t)available;
    return end;
  }
  uint64_t length = payload_length(b + pos);
  if (!decoder_begin_frame(s, b[pos], b[pos + 1], length)) return end;
  long payload_start = pos + head_len;
  if (d->message_opcode != 0 || !d->fin || length > (uint64_t)(end - payload_start)) {
    return decoder_start_payload(w, s, payload_start, length);
  }
  decoder_emit(w, s, d->opcode, b, payload_start, payload_start + (long)length);
  return payload_start + (long)length;
}

void decoder_push(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  while (pos < end && !d->failed && !s->destroyed) {
    if (d->state == DECODE_PAYLOAD) pos = decoder_collect_payload(w, s, b, pos, end);
    else if (d->head_fill == 0) pos = decoder_header_in_place(w, s, b, pos, end);
    else pos = decoder_collect_header(w, s, b, pos, end);
  }
}
