/* The IPC channel to the Node parent: one JSON object per '\n'-terminated line, both directions. */
#pragma once

#include <stddef.h>

void ipc_fill(void);
char *ipc_take_line(size_t *len);
void ipc_write(const char *data, size_t n);
