/* Replies to the parent's commands: ok, with a PoolReport where asked, or an error. */
#pragma once

#include <stdbool.h>

void reply_error(double id, const char *message);
void reply_ok(double id, bool with_report);
