/* subscriber.ts: a subscriber's session: server_ready, the subscription, then its deliveries. */
#pragma once

#include "subscriber.h"

void session_on_text(worker *w, subscriber *s, const uint8_t *b, long start, long end);
void session_on_binary(worker *w, subscriber *s, const uint8_t *b, long start, long end);
