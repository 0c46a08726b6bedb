/* JSON reader: a bounded DOM for commands and a session's control messages, never for publications. */
#include "json.h"

#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "die.h"

static int32_t json_value(jdoc *d);

static void json_skip_ws(jdoc *d) {
  while (d->pos < d->len) {
    char c = d->src[d->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
    d->pos++;
  }
}

static int32_t json_new(jdoc *d, uint8_t type) {
  if (d->count >= d->max_nodes) {
    d->error = "too many JSON values";
    return -1;
  }
  if (d->count == d->cap) {
    d->cap = d->cap == 0 ? 64 : d->cap * 2;
    if (d->cap > d->max_nodes) d->cap = d->max_nodes;
    d->nodes = xrealloc(d->nodes, (size_t)d->cap * sizeof(jnode));
  }
  jnode *n = &d->nodes[d->count];
  memset(n, 0, sizeof *n);
  n->type = type;
  n->child = n->next = -1;
  n->raw_start = (uint32_t)d->pos;
  return d->count++;
}

static void utf8_put(char *out, size_t *o, uint32_t cp) {
  if (cp < 0x80) {
    out[(*o)++] = (char)cp;
  } else if (cp < 0x800) {
    out[(*o)++] = (char)(0xC0 | cp >> 6);
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out[(*o)++] = (char)(0xE0 | cp >> 12);
    out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  } else {
    out[(*o)++] = (char)(0xF0 | cp >> 18);
    out[(*o)++] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[(*o)++] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[(*o)++] = (char)(0x80 | (cp & 0x3F));
  }
}

static int hex4(const char *s, uint32_t *v) {
  *v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (x < 0) return -1;
    *v = *v << 4 | (uint32_t)x;
  }
  return 0;
}

/** A string at d->pos (on its opening quote), decoded into the arena (NUL-terminated). */
static int json_string(jdoc *d, const char **out, uint32_t *out_len) {
  d->pos++;
  /* Decoded text is never longer than its source; the arena was sized to the source. */
  char *start = d->arena + d->arena_len;
  size_t o = 0;
  while (d->pos < d->len) {
    unsigned char c = (unsigned char)d->src[d->pos++];
    if (c == '"') {
      start[o] = '\0';
      d->arena_len += o + 1;
      *out = start;
      *out_len = (uint32_t)o;
      return 0;
    }
    if (c < 0x20) break;
    if (c != '\\') {
      start[o++] = (char)c;
      continue;
    }
    if (d->pos >= d->len) break;
    char e = d->src[d->pos++];
    switch (e) {
      case '"': start[o++] = '"'; break;
      case '\\': start[o++] = '\\'; break;
      case '/': start[o++] = '/'; break;
      case 'b': start[o++] = '\b'; break;
      case 'f': start[o++] = '\f'; break;
      case 'n': start[o++] = '\n'; break;
      case 'r': start[o++] = '\r'; break;
      case 't': start[o++] = '\t'; break;
      case 'u': {
        uint32_t cp, low;
        if (d->pos + 4 > d->len || hex4(d->src + d->pos, &cp) < 0) goto bad;
        d->pos += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && d->pos + 6 <= d->len && d->src[d->pos] == '\\' && d->src[d->pos + 1] == 'u' &&
            hex4(d->src + d->pos + 2, &low) == 0 && low >= 0xDC00 && low < 0xE000) {
          d->pos += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        utf8_put(start, &o, cp);
        break;
      }
      default: goto bad;
    }
  }
bad:
  d->error = "bad JSON string";
  return -1;
}

static int32_t json_number(jdoc *d) {
  int32_t idx = json_new(d, J_NUMBER);
  if (idx < 0) return -1;
  size_t start = d->pos;
  while (d->pos < d->len && d->src[d->pos] != '\0' && strchr("+-0123456789.eE", d->src[d->pos]) != NULL) d->pos++;
  size_t n = d->pos - start;
  char tmp[64];
  if (n == 0 || n >= sizeof tmp) {
    d->error = "bad JSON number";
    return -1;
  }
  memcpy(tmp, d->src + start, n);
  tmp[n] = '\0';
  char *end;
  d->nodes[idx].num = strtod(tmp, &end);
  if (end != tmp + n) {
    d->error = "bad JSON number";
    return -1;
  }
  return idx;
}

static int32_t json_literal(jdoc *d, const char *word, uint8_t type) {
  size_t n = strlen(word);
  if (d->pos + n > d->len || memcmp(d->src + d->pos, word, n) != 0) {
    d->error = "bad JSON literal";
    return -1;
  }
  int32_t idx = json_new(d, type);
  d->pos += n;
  return idx;
}

/** Array elements or object members, linked as children of `parent`. */
static int json_container(jdoc *d, int32_t parent, char close, bool members) {
  d->pos++;
  if (++d->depth > MAX_JSON_DEPTH) {
    d->error = "JSON nested too deep";
    return -1;
  }
  int32_t last = -1;
  json_skip_ws(d);
  if (d->pos < d->len && d->src[d->pos] == close) {
    d->pos++;
    d->depth--;
    return 0;
  }
  for (;;) {
    const char *key = NULL;
    uint32_t key_len = 0;
    json_skip_ws(d);
    if (members) {
      if (d->pos >= d->len || d->src[d->pos] != '"' || json_string(d, &key, &key_len) < 0) {
        if (d->error == NULL) d->error = "expected a JSON key";
        return -1;
      }
      json_skip_ws(d);
      if (d->pos >= d->len || d->src[d->pos] != ':') {
        d->error = "expected ':'";
        return -1;
      }
      d->pos++;
      json_skip_ws(d);
    }
    int32_t child = json_value(d);
    if (child < 0) return -1;
    d->nodes[child].key = key;
    d->nodes[child].key_len = key_len;
    if (last < 0) d->nodes[parent].child = child;
    else d->nodes[last].next = child;
    last = child;
    json_skip_ws(d);
    if (d->pos < d->len && d->src[d->pos] == ',') {
      d->pos++;
      continue;
    }
    if (d->pos < d->len && d->src[d->pos] == close) {
      d->pos++;
      d->depth--;
      return 0;
    }
    d->error = "expected ',' or a closing bracket";
    return -1;
  }
}

static int32_t json_value(jdoc *d) {
  json_skip_ws(d);
  if (d->pos >= d->len) {
    d->error = "unexpected end of JSON";
    return -1;
  }
  char c = d->src[d->pos];
  int32_t idx;
  switch (c) {
    case '{':
    case '[':
      idx = json_new(d, c == '{' ? J_OBJECT : J_ARRAY);
      if (idx < 0 || json_container(d, idx, c == '{' ? '}' : ']', c == '{') < 0) return -1;
      break;
    case '"':
      idx = json_new(d, J_STRING);
      if (idx < 0 || json_string(d, &d->nodes[idx].str, &d->nodes[idx].str_len) < 0) return -1;
      break;
    case 't': idx = json_literal(d, "true", J_TRUE); break;
    case 'f': idx = json_literal(d, "false", J_FALSE); break;
    case 'n': idx = json_literal(d, "null", J_NULL); break;
    default: idx = json_number(d); break;
  }
  if (idx >= 0) d->nodes[idx].raw_end = (uint32_t)d->pos;
  return idx;
}

/** Parses `src`; the root's index, or -1 with d->error set. Valid until the next parse. */
int32_t json_parse(jdoc *d, const char *src, size_t len) {
  d->src = src;
  d->len = len;
  d->pos = 0;
  d->count = 0;
  d->depth = 0;
  d->error = NULL;
  d->arena_len = 0;
  if (d->arena_cap < len + 1) {
    d->arena = xrealloc(d->arena, len + 1);
    d->arena_cap = len + 1;
  }
  int32_t root = json_value(d);
  if (root < 0) return -1;
  json_skip_ws(d);
  if (d->pos != d->len) {
    d->error = "trailing characters after JSON";
    return -1;
  }
  return root;
}

/** The member `key` of object `obj` (the last one, as JSON.parse keeps); -1 when absent. */
int32_t json_get(const jdoc *d, int32_t obj, const char *key) {
  if (obj < 0 || d->nodes[obj].type != J_OBJECT) return -1;
  size_t n = strlen(key);
  int32_t found = -1;
  for (int32_t c = d->nodes[obj].child; c >= 0; c = d->nodes[c].next) {
    if (d->nodes[c].key_len == n && memcmp(d->nodes[c].key, key, n) == 0) found = c;
  }
  return found;
}

bool json_is(const jdoc *d, int32_t idx, uint8_t type) { return idx >= 0 && d->nodes[idx].type == type; }

bool json_str_eq(const jdoc *d, int32_t idx, const char *s, size_t n) {
  return json_is(d, idx, J_STRING) && d->nodes[idx].str_len == n && memcmp(d->nodes[idx].str, s, n) == 0;
}

/** JSON.stringify of a parsed value, from its source text with the whitespace between tokens dropped. */
void json_restringify(strbuf *b, const jdoc *d, int32_t idx) {
  const char *s = d->src + d->nodes[idx].raw_start;
  size_t n = d->nodes[idx].raw_end - d->nodes[idx].raw_start;
  bool in_string = false;
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      sb_put(b, s + run, i - run);
      run = i + 1;
    }
  }
  sb_put(b, s + run, n - run);
}

/** String(value) of a parsed value, as `${…}` prints it; `undefined` for an absent one. */
void json_js_string(strbuf *b, const jdoc *d, int32_t idx) {
  if (idx < 0) {
    sb_puts(b, "undefined");
    return;
  }
  const jnode *n = &d->nodes[idx];
  switch (n->type) {
    case J_NULL: sb_puts(b, "null"); break;
    case J_TRUE: sb_puts(b, "true"); break;
    case J_FALSE: sb_puts(b, "false"); break;
    case J_NUMBER: sb_number(b, n->num); break;
    case J_STRING: sb_put(b, n->str, n->str_len); break;
    case J_OBJECT: sb_puts(b, "[object Object]"); break;
    case J_ARRAY:
      for (int32_t c = n->child; c >= 0; c = d->nodes[c].next) {
        if (c != n->child) sb_puts(b, ",");
        if (!json_is(d, c, J_NULL)) json_js_string(b, d, c);
      }
      break;
  }
}
