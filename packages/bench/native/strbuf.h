/* Growable byte string (replies, request heads) and JSON output as JSON.stringify writes it. */
#pragma once

#include <stddef.h>

typedef struct {
  char *p;
  size_t len, cap;
} strbuf;

void sb_put(strbuf *b, const char *s, size_t n);
void sb_puts(strbuf *b, const char *s);
void sb_printf(strbuf *b, const char *fmt, ...);
void sb_free(strbuf *b);
void sb_number(strbuf *b, double x);
void sb_json_string(strbuf *b, const char *s, size_t n);
