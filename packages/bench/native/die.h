/* Fatal errors: die(), and allocators that die instead of returning NULL. */
#pragma once

#include <stddef.h>

_Noreturn void die(const char *fmt, ...);
void *xrealloc(void *p, size_t n);
void *xcalloc(size_t n, size_t size);
char *xstrndup(const char *s, size_t n);
