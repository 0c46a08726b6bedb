/* handshake.ts: the upgrade response head, collected and checked against the subscriber's key. */
#pragma once

#include <stdint.h>

#include "subscriber.h"

long upgrade_push(subscriber *s, const uint8_t *b, long n);
