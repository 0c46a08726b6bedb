/* JSON reader: a bounded DOM for commands and a session's control messages, never for publications. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT };

typedef struct {
  uint8_t type;
  int32_t child; /* first element or member; -1 */
  int32_t next;  /* next sibling; -1 */
  const char *key;
  uint32_t key_len;
  const char *str;
  uint32_t str_len;
  double num;
  uint32_t raw_start, raw_end; /* the value's text in the source */
} jnode;

/** Nodes and decoded strings live in arrays reused between parses. */
typedef struct {
  jnode *nodes;
  int32_t count, cap, max_nodes;
  char *arena;
  size_t arena_len, arena_cap;
  const char *src;
  size_t len, pos;
  int depth;
  const char *error;
} jdoc;

int32_t json_parse(jdoc *d, const char *src, size_t len);
int32_t json_get(const jdoc *d, int32_t obj, const char *key);
bool json_is(const jdoc *d, int32_t idx, uint8_t type);
bool json_str_eq(const jdoc *d, int32_t idx, const char *s, size_t n);
void json_restringify(strbuf *b, const jdoc *d, int32_t idx);
void json_js_string(strbuf *b, const jdoc *d, int32_t idx);
