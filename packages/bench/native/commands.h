/* Commands (load-process.ts execute): one line from the parent, run and answered exactly once. */
#pragma once

#include <stddef.h>

void execute_line(char *line, size_t len);
