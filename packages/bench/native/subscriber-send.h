/* What a subscriber sends: masked client frames, written now or buffered until the socket drains. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "subscriber.h"

void sub_watch(worker *w, subscriber *s, uint32_t events);
void sub_write(worker *w, subscriber *s, const uint8_t *data, size_t n);
void sub_flush(worker *w, subscriber *s);
void sub_send_frame(worker *w, subscriber *s, int opcode, const uint8_t *payload, size_t len);
void sub_send_text(worker *w, subscriber *s, const char *text, size_t len);
