/*
 * wse-load: the native subscriber load process of wse-bench (packages/bench/README.md).
 *
 * LoadClient (src/load/load-client.ts) starts it in place of load-process.js; it answers the same
 * commands (src/load/ipc.ts) with the same replies, counter for counter, as the Node load process:
 *
 *   src/load/subscriber-pool.ts   -> control thread (commands, batches, settle, report, close)
 *   src/load/subscriber.ts        -> session_* (server_ready, subscription_update, deliveries)
 *   src/ws/raw-websocket.ts       -> sub_* (socket, upgrade, close handshake, pings)
 *   src/ws/frame-decoder.ts       -> decoder_* (the same state machine, same error codes)
 *   src/ws/handshake.ts           -> upgrade_* (request head, Sec-WebSocket-Accept check)
 *   src/load/publication-scanner.ts, sequence-tracker.ts, delivery-stats.ts,
 *   latency-histogram.ts (same 1,664 buckets, so snapshots merge), sys/clock.ts.
 *
 * IPC: Node's child_process channel with serialization 'json' (fd NODE_CHANNEL_FD): one JSON
 * object per '\n'-terminated line, both directions. Commands run one at a time, in order, each
 * answered exactly once; the process exits when the channel closes, like load-process.js.
 *
 * Threads: --threads N (or WSE_LOAD_THREADS) workers, each with its own epoll and a round-robin
 * share of the subscribers; all socket work happens on the workers. The main thread only speaks
 * IPC and asks workers for commands and snapshots through a one-slot mailbox each, so no counter
 * is shared between threads except the batch and open-socket counts.
 *
 * Build: cc -O2 -pthread -o dist/native/wse-load native/wse-load.c (Linux, C11, libc only).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------------------------ */
/* Limits: every buffer and loop below is bounded by one of these.                              */

#define READ_CHUNK_BYTES (256 * 1024)
#define MAX_READS_PER_EVENT 4
#define EPOLL_BATCH 256
#define MAX_MESSAGE_BYTES (16u * 1024 * 1024) /* FrameDecoder's default maxMessageBytes */
#define MAX_CONTROL_PAYLOAD 125
#define INITIAL_ASSEMBLY_BYTES 256
#define MAX_RESPONSE_HEAD_BYTES (16 * 1024) /* handshake.ts */
#define MAX_PENDING_WRITE_BYTES (1024 * 1024)
#define MAX_SESSION_MESSAGE_BYTES (1024 * 1024)
#define MAX_SESSION_JSON_NODES 65536
#define MAX_IPC_LINE_BYTES (64u * 1024 * 1024)
#define MAX_COMMAND_JSON_NODES (1024 * 1024)
#define MAX_JSON_DEPTH 64
#define MAX_CLOSE_CODES 64
#define MAX_THREADS 256
#define MAX_TOPICS (1u << 20)
#define CLOSE_GRACE_MS 2000          /* raw-websocket.ts */
#define SETTLE_POLL_MS 10            /* subscriber-pool.ts */
#define GRACE_CHECK_MS 100
#define WORKER_REPLY_TIMEOUT_MS 30000
#define IPC_WRITE_TIMEOUT_MS 30000
#define MAX_TIMER_MS 0x7fffffffLL    /* a window edge further away never comes (subscriber-pool.ts) */

static const char ACCEPT_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/* subscriber.ts: PROTOCOL.md §5, what the original's load client sends. */
static const char CLIENT_HELLO[] = "{\"t\":\"client_hello\",\"p\":{\"client_version\":\"wse-bench/0.1.0\",\"protocol_version\":1}}";
static const char PONG_TEXT[] = "{\"c\":\"WSE\",\"t\":\"PONG\",\"p\":{},\"v\":1}";

enum { OP_CONTINUATION = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2, OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xa };

/* ------------------------------------------------------------------------------------------ */
/* Small utilities                                                                              */

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("wse-load: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(3);
}

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n == 0 ? 1 : n);
  if (q == NULL) die("out of memory (%zu bytes)", n);
  return q;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
  if (p == NULL) die("out of memory (%zu x %zu bytes)", n, size);
  return p;
}

static char *xstrndup(const char *s, size_t n) {
  char *d = xrealloc(NULL, n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

/** sys/clock.ts: wall clock in (fractional) microseconds, shared with the publisher's process. */
static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int64_t mono_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/** process.cpuUsage(): user + system of the whole process (every thread), µs. */
static int64_t cpu_total_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return ((int64_t)r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1000000 + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
}

/** The libuv error name Node puts in a socket error's message (`connect ECONNREFUSED …`). */
static const char *errno_name(int e) {
  switch (e) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ECONNABORTED: return "ECONNABORTED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPIPE: return "EPIPE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EADDRINUSE: return "EADDRINUSE";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    default: return strerror(e);
  }
}

/** splitmix64: mask keys and Sec-WebSocket-Key bytes (RFC 6455 asks unpredictable, not secret). */
static uint64_t rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static uint64_t rng_seed(void) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) seed = (uint64_t)now_us() ^ ((uint64_t)getpid() << 32);
  return seed;
}

/* SHA-1 (RFC 3174), only for Sec-WebSocket-Accept. */
static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1(const uint8_t *data, size_t len, uint8_t out[20]) {
  uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
  uint8_t block[64];
  uint64_t bits = (uint64_t)len * 8;
  size_t total = ((len + 8) / 64 + 1) * 64;
  for (size_t off = 0; off < total; off += 64) {
    for (size_t i = 0; i < 64; i++) {
      size_t at = off + i;
      if (at < len) block[i] = data[at];
      else if (at == len) block[i] = 0x80;
      else if (at >= total - 8) block[i] = (uint8_t)(bits >> (8 * (total - 1 - at)));
      else block[i] = 0;
    }
    uint32_t w[80];
    for (int i = 0; i < 16; i++) w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16 | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
    for (int i = 16; i < 80; i++) w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
      uint32_t f, k;
      if (i < 20) f = (b & c) | (~b & d), k = 0x5A827999;
      else if (i < 40) f = b ^ c ^ d, k = 0x6ED9EBA1;
      else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
      else f = b ^ c ^ d, k = 0xCA62C1D6;
      uint32_t t = rol32(a, 5) + f + e + k + w[i];
      e = d, d = c, c = rol32(b, 30), b = a, a = t;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
  }
  for (int i = 0; i < 5; i++) {
    out[4 * i] = (uint8_t)(h[i] >> 24), out[4 * i + 1] = (uint8_t)(h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(h[i] >> 8), out[4 * i + 3] = (uint8_t)h[i];
  }
}

/** Standard base64 with padding; `out` holds 4 * ceil(len / 3) + 1 bytes. */
static void base64(const uint8_t *in, size_t len, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
    out[o++] = abc[v >> 18 & 63];
    out[o++] = abc[v >> 12 & 63];
    out[o++] = i + 1 < len ? abc[v >> 6 & 63] : '=';
    out[o++] = i + 2 < len ? abc[v & 63] : '=';
  }
  out[o] = '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* Growable byte string (replies, request heads) and JSON output as JSON.stringify writes it.   */

typedef struct {
  char *p;
  size_t len, cap;
} strbuf;

static void sb_put(strbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap == 0 ? 256 : b->cap;
    while (cap < b->len + n + 1) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void sb_puts(strbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_printf(strbuf *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof tmp) {
    sb_put(b, tmp, (size_t)n);
    return;
  }
  char *big = xrealloc(NULL, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_put(b, big, (size_t)n);
  free(big);
}

static void sb_free(strbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/** A JS number as JSON.stringify prints it, close enough to parse back to the same double. */
static void sb_number(strbuf *b, double x) {
  if (x != x || x > 1.7976931348623157e308 || x < -1.7976931348623157e308) {
    sb_puts(b, "null");
  } else if (x == (double)(int64_t)x && x < 9007199254740992.0 && x > -9007199254740992.0) {
    sb_printf(b, "%lld", (long long)x);
  } else {
    sb_printf(b, "%.17g", x);
  }
}

static void sb_json_string(strbuf *b, const char *s, size_t n) {
  sb_put(b, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    sb_put(b, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': sb_puts(b, "\\\""); break;
      case '\\': sb_puts(b, "\\\\"); break;
      case '\b': sb_puts(b, "\\b"); break;
      case '\f': sb_puts(b, "\\f"); break;
      case '\n': sb_puts(b, "\\n"); break;
      case '\r': sb_puts(b, "\\r"); break;
      case '\t': sb_puts(b, "\\t"); break;
      default: sb_printf(b, "\\u%04x", c); break;
    }
  }
  sb_put(b, s + run, n - run);
  sb_put(b, "\"", 1);
}

/* ------------------------------------------------------------------------------------------ */
/* JSON reader: a bounded DOM for commands and for the few control messages of a session        */
/* (never for publications). Nodes and decoded strings live in arrays reused between parses.    */

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
static int32_t json_parse(jdoc *d, const char *src, size_t len) {
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
static int32_t json_get(const jdoc *d, int32_t obj, const char *key) {
  if (obj < 0 || d->nodes[obj].type != J_OBJECT) return -1;
  size_t n = strlen(key);
  int32_t found = -1;
  for (int32_t c = d->nodes[obj].child; c >= 0; c = d->nodes[c].next) {
    if (d->nodes[c].key_len == n && memcmp(d->nodes[c].key, key, n) == 0) found = c;
  }
  return found;
}

static bool json_is(const jdoc *d, int32_t idx, uint8_t type) { return idx >= 0 && d->nodes[idx].type == type; }

static bool json_str_eq(const jdoc *d, int32_t idx, const char *s, size_t n) {
  return json_is(d, idx, J_STRING) && d->nodes[idx].str_len == n && memcmp(d->nodes[idx].str, s, n) == 0;
}

/** JSON.stringify of a parsed value, from its source text with the whitespace between tokens dropped. */
static void json_restringify(strbuf *b, const jdoc *d, int32_t idx) {
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
static void json_js_string(strbuf *b, const jdoc *d, int32_t idx) {
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

/* ------------------------------------------------------------------------------------------ */
/* latency-histogram.ts: the same bucket layout, so snapshots merge with the Node processes'.  */

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1 << HIST_SUB_BITS)
#define HIST_HALF_COUNT (HIST_SUB_COUNT >> 1)
#define HIST_MAX_VALUE 0x7fffffffu
#define HIST_BUCKETS ((31 - HIST_SUB_BITS + 2) * HIST_HALF_COUNT)

typedef struct {
  uint64_t counts[HIST_BUCKETS];
  uint64_t count, sum;
  uint32_t min, max; /* min is meaningful only when count > 0 (Infinity in the Node class) */
} histogram;

static void hist_reset(histogram *h) {
  memset(h, 0, sizeof *h);
  h->min = UINT32_MAX;
}

static inline unsigned hist_bucket(uint32_t v) {
  if (v < HIST_SUB_COUNT) return v;
  unsigned shift = 31u - (unsigned)__builtin_clz(v) - (HIST_SUB_BITS - 1);
  return shift * HIST_HALF_COUNT + (v >> shift);
}

static inline void hist_record(histogram *h, double value) {
  uint32_t v = !(value > 0) ? 0 : value >= HIST_MAX_VALUE ? HIST_MAX_VALUE : (uint32_t)value;
  h->counts[hist_bucket(v)]++;
  h->count++;
  h->sum += v;
  if (v < h->min) h->min = v;
  if (v > h->max) h->max = v;
}

static void hist_merge(histogram *into, const histogram *other) {
  for (int i = 0; i < HIST_BUCKETS; i++) into->counts[i] += other->counts[i];
  into->count += other->count;
  into->sum += other->sum;
  if (other->count > 0) {
    if (other->min < into->min) into->min = other->min;
    if (other->max > into->max) into->max = other->max;
  }
}

/** HistogramSnapshot: {counts, count, sum, min, max}; min is null (JSON of Infinity) when empty. */
static void hist_json(strbuf *b, const histogram *h) {
  sb_puts(b, "{\"counts\":[");
  for (int i = 0; i < HIST_BUCKETS; i++) {
    if (i > 0) sb_put(b, ",", 1);
    if (h->counts[i] == 0) sb_put(b, "0", 1);
    else sb_printf(b, "%llu", (unsigned long long)h->counts[i]);
  }
  sb_printf(b, "],\"count\":%llu,\"sum\":%llu,\"min\":", (unsigned long long)h->count, (unsigned long long)h->sum);
  if (h->count == 0) sb_puts(b, "null");
  else sb_printf(b, "%u", h->min);
  sb_printf(b, ",\"max\":%u}", h->max);
}

/* ------------------------------------------------------------------------------------------ */
/* publication-scanner.ts: `"o":`, `"s":` and `"ts":` by byte comparison at remembered places.   */

typedef struct {
  int64_t offset, seq, ts; /* -1 where absent */
  long offset_hint;        /* position of `"o":` from the message start */
  long seq_hint;           /* position of `"s":` from the end of the offset's digits */
  long number_end;
} pub_scanner;

static inline bool scan_is_key1(const uint8_t *b, long at, long end, uint8_t letter) {
  if (at + 4 > end) return false;
  uint8_t before = b[at - 1];
  return b[at] == '"' && b[at + 1] == letter && b[at + 2] == '"' && b[at + 3] == ':' && (before == '{' || before == ',');
}

static long scan_find_key1(const uint8_t *b, long from, long end, uint8_t letter) {
  for (long i = from + 1; i + 4 <= end; i++) {
    if (b[i + 1] == letter && scan_is_key1(b, i, end, letter)) return i;
  }
  return -1;
}

static inline bool scan_is_ts_key(const uint8_t *b, long at, long end) {
  if (at + 5 > end) return false;
  uint8_t before = b[at - 1];
  return b[at] == '"' && b[at + 1] == 't' && b[at + 2] == 's' && b[at + 3] == '"' && b[at + 4] == ':' &&
         (before == '{' || before == ',');
}

static long scan_find_ts_key(const uint8_t *b, long from, long end) {
  for (long i = from + 1; i + 5 <= end; i++) {
    if (b[i + 1] == 't' && scan_is_ts_key(b, i, end)) return i;
  }
  return -1;
}

/** Eight ASCII digits at `p` as a number (little-endian SWAR); false if any byte is not a digit. */
static inline bool scan_eight_digits(const uint8_t *p, uint64_t *out) {
  uint64_t v;
  memcpy(&v, p, 8);
  if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) != 0x3333333333333333ULL) return false;
  v -= 0x3030303030303030ULL;
  v = v * 10 + (v >> 8);
  v = ((v & 0x000000FF000000FFULL) * (100 + (1000000ULL << 32)) + ((v >> 16) & 0x000000FF000000FFULL) * (1 + (10000ULL << 32))) >> 32;
  *out = v;
  return true;
}

/**
 * Non-negative JSON integer at `pos`; -1 when there is none. Sets number_end. Timestamps have 16
 * digits: eight at a time, then one at a time; past 18 digits the value saturates (JS rounds).
 */
static inline int64_t scan_number(pub_scanner *sc, const uint8_t *b, long pos, long end) {
  if (pos < end && b[pos] == '-') {
    sc->number_end = pos;
    return -1;
  }
  uint64_t value = 0, eight;
  long i = pos;
  while (i + 8 <= end && i - pos < 16 && scan_eight_digits(b + i, &eight)) {
    value = value * 100000000u + eight;
    i += 8;
  }
  for (; i < end; i++) {
    unsigned digit = (unsigned)b[i] - '0';
    if (digit > 9) break;
    value = value < (uint64_t)(INT64_MAX - 9) / 10 ? value * 10 + digit : (uint64_t)INT64_MAX;
  }
  sc->number_end = i;
  return i == pos ? -1 : (int64_t)value;
}

/** True when the message carries an `o` stamp (a publication). */
static inline bool scan_publication(pub_scanner *sc, const uint8_t *b, long start, long end) {
  long at = start + sc->offset_hint;
  if (sc->offset_hint < 0 || !scan_is_key1(b, at, end, 'o')) {
    at = scan_find_key1(b, start, end, 'o');
    if (at < 0) return false;
    sc->offset_hint = at - start;
  }
  sc->offset = scan_number(sc, b, at + 4, end);
  long after_offset = sc->number_end;
  at = after_offset + sc->seq_hint;
  if (sc->seq_hint < 0 || !scan_is_key1(b, at, end, 's')) {
    at = scan_find_key1(b, after_offset, end, 's');
    if (at < 0) {
      sc->seq = -1;
      sc->ts = -1;
      return true;
    }
    sc->seq_hint = at - after_offset;
  }
  sc->seq = scan_number(sc, b, at + 4, end);
  at = sc->number_end + 1;
  /* The publisher writes `ts` right after `s`; anything else is looked for after the offset. */
  if (!scan_is_ts_key(b, at, end)) at = scan_find_ts_key(b, after_offset, end);
  sc->ts = at < 0 ? -1 : scan_number(sc, b, at + 5, end);
  return true;
}

/* ------------------------------------------------------------------------------------------ */
/* sequence-tracker.ts                                                                          */

typedef struct {
  int64_t last;
  bool started; /* false: the first value seen is the baseline (NaN in the Node class) */
  uint64_t gaps, duplicates;
} seq_tracker;

static void seq_init(seq_tracker *t, bool has_first, int64_t expected_first) {
  t->last = has_first ? expected_first - 1 : 0;
  t->started = has_first;
  t->gaps = t->duplicates = 0;
}

static inline void seq_observe(seq_tracker *t, int64_t value) {
  if (!t->started || value == t->last + 1) {
    t->last = value;
    t->started = true;
  } else if (value > t->last) {
    t->gaps += (uint64_t)(value - t->last - 1);
    t->last = value;
  } else {
    t->duplicates++;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Process-wide state: targets and topics of this pool's connect commands, shared counters.     */

/** One `spec.request`: where to connect and the request head around Sec-WebSocket-Key. */
typedef struct {
  struct sockaddr_storage addr;
  socklen_t addr_len;
  bool has_local;
  struct sockaddr_storage local;
  socklen_t local_len;
  char *resolve_error; /* getaddrinfo failed: every subscriber fails with this */
  char *endpoint;      /* host:port for error messages */
  char *local_name;
  char *head_before_key, *head_after_key;
  size_t before_len, after_len;
} target;

typedef struct topic {
  char *name;
  size_t name_len;
  uint32_t id;
  char *subscribe_json; /* subscriber.ts: the subscription_update it sends */
  size_t subscribe_len;
} topic;

typedef struct worker worker;

static struct {
  int threads;
  worker *workers;
  int ipc_fd;
  int wake_fd; /* workers tell the control thread a count reached zero or a command finished */
  topic **topics;
  uint32_t topic_count, topic_cap;
  uint32_t *topic_index; /* open addressing over topics, by name */
  uint32_t topic_index_cap;
  target **targets;
  size_t target_count, target_cap;
  uint64_t next_subscriber; /* round robin over workers */
  _Atomic int64_t batch_unsettled;
  _Atomic uint32_t batch_gen;
  _Atomic int64_t open;
  _Atomic bool closing;
  pthread_mutex_t error_lock;
  char *first_error;
} P;

static void wake_control(void) {
  uint64_t one = 1;
  ssize_t r = write(P.wake_fd, &one, sizeof one);
  (void)r;
}

static void record_first_error(const char *message) {
  pthread_mutex_lock(&P.error_lock);
  if (P.first_error == NULL) P.first_error = strdup(message);
  pthread_mutex_unlock(&P.error_lock);
}

/* ------------------------------------------------------------------------------------------ */
/* Subscribers: socket, upgrade, frame decoder, session. All touched by their worker only.      */

enum conn_phase { CONN_CONNECTING, CONN_UPGRADING, CONN_OPEN, CONN_CLOSING, CONN_CLOSED };
enum session_phase { SESSION_AWAIT_READY, SESSION_SUBSCRIBING, SESSION_LIVE, SESSION_CLOSED };
enum decoder_state { DECODE_HEADER, DECODE_PAYLOAD };

/** frame-decoder.ts, per connection. */
typedef struct {
  uint8_t state;
  uint8_t head_fill;
  bool fin;
  bool failed;
  uint8_t opcode;
  uint8_t message_opcode; /* of the fragmented message being assembled; 0 when none */
  uint8_t control_len;
  uint8_t head[10];
  uint64_t remaining;
  uint8_t *assembly;
  uint32_t assembly_len, assembly_cap;
  uint8_t control[MAX_CONTROL_PAYLOAD];
} frame_decoder;

typedef struct subscriber {
  int fd;
  uint8_t conn;
  uint8_t session;
  bool was_subscribed;
  bool destroyed;        /* finish after the current event (raw-websocket.ts destroy → 'close') */
  bool shut_after_flush; /* socket.end(): FIN once the pending bytes are out */
  bool in_grace;
  uint32_t batch_gen;
  int close_code;        /* the peer's close code; 1005 without one, 1006 when none came */
  int64_t grace_deadline_ms;
  const target *target;
  const topic *topic;
  uint64_t delivered;
  seq_tracker seq;       /* the publisher's sequence: every run starts at 0 */
  seq_tracker offsets;   /* the server's offset: the first one seen is the baseline */
  char key[25];
  char *head;            /* upgrade response head while it arrives */
  uint32_t head_len;
  uint8_t *out;          /* bytes the kernel has not taken yet */
  uint32_t out_len;
  char *last_error;
  char *failure;
  frame_decoder dec;
} subscriber;

/** delivery-stats.ts, per worker. */
typedef struct {
  double now;
  bool in_window;
  double window_start, window_end;
  uint64_t deliveries, bytes, window_deliveries, window_bytes, other_frames;
  histogram latency;
  pub_scanner scanner; /* one per worker: same-shaped messages keep its hints hot */
} delivery_stats;

typedef struct {
  uint64_t subscribers, live, connect_failures;
  uint64_t deliveries, bytes, window_deliveries, window_bytes, other_frames;
  uint64_t seq_gaps, seq_duplicates, offset_gaps, offset_duplicates;
  int64_t min_last_seq;
  bool any_live;
  uint32_t topic_count;
  uint64_t *topic_subscribers, *topic_deliveries;
  uint32_t close_codes;
  int close_code[MAX_CLOSE_CODES];
  uint64_t close_count[MAX_CLOSE_CODES];
  histogram latency;
} snapshot;

enum command_kind { CMD_OPEN = 1, CMD_WINDOW, CMD_SNAPSHOT, CMD_CLOSE_ALL, CMD_RESET };

typedef struct {
  enum command_kind kind;
  /* CMD_OPEN: subscribers first_subscriber + i, i < count, each on worker (first_subscriber + i) % threads */
  const target *target;
  topic **topics;
  uint32_t topic_count;
  uint64_t topic_base; /* spec.offset + opened so far */
  uint64_t first_subscriber;
  uint32_t count;
  uint32_t gen;
  /* CMD_WINDOW */
  double start_us, end_us;
  /* CMD_SNAPSHOT */
  snapshot *out;
  bool light; /* counters only: no topics, no histogram */
} command;

struct worker {
  int id;
  pthread_t thread;
  int epfd;
  int cmd_fd;
  command cmd;
  _Atomic int cmd_pending;
  uint8_t *rbuf;
  uint8_t *scratch;
  size_t scratch_cap;
  uint64_t rng;
  subscriber **subs;
  uint32_t sub_count, sub_cap;
  uint32_t in_grace;
  int64_t next_grace_check_ms;
  delivery_stats stats;
  uint64_t connect_failures;
  uint32_t close_codes;
  int close_code[MAX_CLOSE_CODES];
  uint64_t close_count[MAX_CLOSE_CODES];
  jdoc session_doc;
};

static void sub_close(worker *w, subscriber *s, int code);
static void session_on_text(worker *w, subscriber *s, const uint8_t *b, long start, long end);
static void session_on_binary(worker *w, subscriber *s, const uint8_t *b, long start, long end);

static void stats_on_read(delivery_stats *st) {
  double now = now_us();
  st->now = now;
  st->in_window = now >= st->window_start && now < st->window_end;
}

/**
 * Deliveries and bytes count by arrival time inside the window; latency counts only messages
 * published inside it, whenever they arrive (delivery-stats.ts).
 */
static inline void stats_record(delivery_stats *st, uint64_t bytes, int64_t published_us) {
  st->deliveries++;
  st->bytes += bytes;
  if (st->in_window) {
    st->window_deliveries++;
    st->window_bytes += bytes;
  }
  double published = (double)published_us;
  if (published >= st->window_start && published < st->window_end) hist_record(&st->latency, st->now - published);
}

static void stats_reset(delivery_stats *st) {
  st->deliveries = st->bytes = st->window_deliveries = st->window_bytes = st->other_frames = 0;
  st->in_window = false;
  st->window_start = st->window_end = 1.0 / 0.0;
  hist_reset(&st->latency);
}

/* ---- writing ---- */

static void sub_fail(subscriber *s, const char *fmt, ...) {
  if (s->failure == NULL && s->conn != CONN_CLOSED) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    s->failure = strdup(message);
  }
  s->destroyed = true;
}

static void sub_watch(worker *w, subscriber *s, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = s};
  epoll_ctl(w->epfd, EPOLL_CTL_MOD, s->fd, &ev);
}

static void sub_write(worker *w, subscriber *s, const uint8_t *data, size_t n) {
  if (s->destroyed || s->fd < 0) return;
  if (s->out_len == 0) {
    ssize_t k = send(s->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k == (ssize_t)n) return;
    if (k < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        sub_fail(s, "write %s", errno_name(errno));
        return;
      }
      k = 0;
    }
    data += k;
    n -= (size_t)k;
    sub_watch(w, s, EPOLLIN | EPOLLOUT);
  }
  if (s->out_len + n > MAX_PENDING_WRITE_BYTES) {
    sub_fail(s, "write buffer over %d bytes", MAX_PENDING_WRITE_BYTES);
    return;
  }
  s->out = xrealloc(s->out, s->out_len + n);
  memcpy(s->out + s->out_len, data, n);
  s->out_len += (uint32_t)n;
}

static void sub_flush(worker *w, subscriber *s) {
  while (s->out_len > 0) {
    ssize_t k = send(s->fd, s->out, s->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) sub_fail(s, "write %s", errno_name(errno));
      return;
    }
    memmove(s->out, s->out + k, s->out_len - (size_t)k);
    s->out_len -= (uint32_t)k;
  }
  free(s->out);
  s->out = NULL;
  sub_watch(w, s, EPOLLIN);
  if (s->shut_after_flush) shutdown(s->fd, SHUT_WR);
}

/** client-frame.ts: one final masked frame. */
static void sub_send_frame(worker *w, subscriber *s, int opcode, const uint8_t *payload, size_t len) {
  size_t need = len + 14;
  if (w->scratch_cap < need) {
    w->scratch = xrealloc(w->scratch, need);
    w->scratch_cap = need;
  }
  uint8_t *f = w->scratch;
  size_t pos = 0;
  f[pos++] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    f[pos++] = (uint8_t)(0x80 | len);
  } else if (len < 0x10000) {
    f[pos++] = 0x80 | 126;
    f[pos++] = (uint8_t)(len >> 8);
    f[pos++] = (uint8_t)len;
  } else {
    f[pos++] = 0x80 | 127;
    for (int i = 7; i >= 0; i--) f[pos++] = (uint8_t)((uint64_t)len >> (8 * i));
  }
  uint32_t key = (uint32_t)rng_next(&w->rng);
  uint8_t mask[4] = {(uint8_t)(key >> 24), (uint8_t)(key >> 16), (uint8_t)(key >> 8), (uint8_t)key};
  memcpy(f + pos, mask, 4);
  pos += 4;
  for (size_t i = 0; i < len; i++) f[pos + i] = payload[i] ^ mask[i & 3];
  sub_write(w, s, f, pos + len);
}

static void sub_send_text(worker *w, subscriber *s, const char *text, size_t len) {
  if (s->conn == CONN_OPEN) sub_send_frame(w, s, OP_TEXT, (const uint8_t *)text, len);
}

/* ---- frame-decoder.ts ---- */

static bool decoder_fail(subscriber *s, const char *code) {
  s->dec.failed = true;
  sub_fail(s, "bad frame from server: %s", code); /* raw-websocket.ts onFrameError */
  return false;
}

static void sub_on_control(worker *w, subscriber *s, int opcode, const uint8_t *p, size_t len) {
  if (opcode == OP_PING) {
    if (s->conn == CONN_OPEN) sub_send_frame(w, s, OP_PONG, p, len);
  } else if (opcode == OP_CLOSE) {
    s->close_code = len >= 2 ? (p[0] << 8 | p[1]) : 1005;
    sub_close(w, s, s->close_code == 1005 ? 1000 : s->close_code);
  }
}

static inline void decoder_emit(worker *w, subscriber *s, int opcode, const uint8_t *b, long start, long end) {
  if (opcode == OP_TEXT) {
    if (s->conn == CONN_OPEN) session_on_text(w, s, b, start, end);
  } else if (opcode == OP_BINARY) {
    if (s->conn == CONN_OPEN) session_on_binary(w, s, b, start, end);
  } else {
    sub_on_control(w, s, opcode, b + start, (size_t)(end - start));
  }
}

static inline unsigned header_length(uint8_t b1) {
  unsigned len7 = b1 & 0x7f;
  return len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
}

/** Payload length of a complete header; lengths beyond 2^53 read as UINT64_MAX (Infinity in Node). */
static inline uint64_t payload_length(const uint8_t *h) {
  unsigned len7 = h[1] & 0x7f;
  if (len7 < 126) return len7;
  if (len7 == 126) return (uint64_t)h[2] << 8 | h[3];
  uint64_t v = 0;
  for (int i = 2; i < 10; i++) v = v << 8 | h[i];
  return v > (1ULL << 53) ? UINT64_MAX : v;
}

/** RFC 6455 §5.2, §5.5: false when the stream is now unusable. */
static bool decoder_begin_frame(subscriber *s, uint8_t b0, uint8_t b1, uint64_t length) {
  frame_decoder *d = &s->dec;
  int opcode = b0 & 0x0f;
  d->fin = (b0 & 0x80) != 0;
  d->opcode = (uint8_t)opcode;
  if (b0 & 0x70) return decoder_fail(s, "RESERVED_BITS");
  if (b1 & 0x80) return decoder_fail(s, "MASKED_SERVER_FRAME");
  if (opcode & 0x08) {
    if (opcode > OP_PONG) return decoder_fail(s, "BAD_OPCODE");
    if (!d->fin || length > MAX_CONTROL_PAYLOAD) return decoder_fail(s, "BAD_CONTROL_FRAME");
    return true;
  }
  if (opcode > OP_BINARY) return decoder_fail(s, "BAD_OPCODE");
  if (opcode == OP_CONTINUATION && d->message_opcode == 0) return decoder_fail(s, "UNEXPECTED_CONTINUATION");
  if (opcode != OP_CONTINUATION && d->message_opcode != 0) return decoder_fail(s, "INTERLEAVED_MESSAGE");
  if (length > MAX_MESSAGE_BYTES || d->assembly_len + length > MAX_MESSAGE_BYTES) return decoder_fail(s, "MESSAGE_TOO_LARGE");
  return true;
}

static void decoder_finish_frame(worker *w, subscriber *s) {
  frame_decoder *d = &s->dec;
  d->state = DECODE_HEADER;
  if (d->opcode & 0x08) {
    size_t len = d->control_len;
    d->control_len = 0;
    sub_on_control(w, s, d->opcode, d->control, len);
    return;
  }
  if (d->opcode != OP_CONTINUATION) d->message_opcode = d->opcode;
  if (!d->fin) return;
  int opcode = d->message_opcode;
  long len = d->assembly_len;
  d->message_opcode = 0;
  d->assembly_len = 0;
  decoder_emit(w, s, opcode, d->assembly, 0, len);
}

static long decoder_start_payload(worker *w, subscriber *s, long pos, uint64_t length) {
  s->dec.remaining = length;
  s->dec.state = DECODE_PAYLOAD;
  if (length == 0) decoder_finish_frame(w, s);
  return pos;
}

static long decoder_collect_payload(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  uint64_t avail = (uint64_t)(end - pos);
  size_t take = (size_t)(d->remaining < avail ? d->remaining : avail);
  if (d->opcode & 0x08) {
    memcpy(d->control + d->control_len, b + pos, take);
    d->control_len += (uint8_t)take;
  } else {
    size_t need = (size_t)d->assembly_len + take;
    if (need > d->assembly_cap) {
      size_t cap = d->assembly_cap == 0 ? INITIAL_ASSEMBLY_BYTES : d->assembly_cap;
      while (cap < need) cap *= 2;
      if (cap > MAX_MESSAGE_BYTES) cap = MAX_MESSAGE_BYTES;
      d->assembly = xrealloc(d->assembly, cap);
      d->assembly_cap = (uint32_t)cap;
    }
    memcpy(d->assembly + d->assembly_len, b + pos, take);
    d->assembly_len += (uint32_t)take;
  }
  d->remaining -= take;
  if (d->remaining == 0) decoder_finish_frame(w, s);
  return pos + (long)take;
}

static long decoder_collect_header(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  if (d->head_fill < 2) {
    d->head[d->head_fill++] = b[pos++];
    return pos;
  }
  long need = header_length(d->head[1]);
  long take = need - d->head_fill < end - pos ? need - d->head_fill : end - pos;
  memcpy(d->head + d->head_fill, b + pos, (size_t)take);
  d->head_fill += (uint8_t)take;
  pos += take;
  if (d->head_fill < need) return pos;
  d->head_fill = 0;
  uint64_t length = payload_length(d->head);
  if (!decoder_begin_frame(s, d->head[0], d->head[1], length)) return end;
  return decoder_start_payload(w, s, pos, length);
}

/** Fast path: header parsed straight from the read buffer, payload handed over in place if whole. */
static inline long decoder_header_in_place(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  long available = end - pos;
  long head_len = available >= 2 ? (long)header_length(b[pos + 1]) : 10;
  if (available < head_len) {
    memcpy(d->head, b + pos, (size_t)available);
    d->head_fill = (uint8_t)available;
    return end;
  }
  uint64_t length = payload_length(b + pos);
  if (!decoder_begin_frame(s, b[pos], b[pos + 1], length)) return end;
  long payload_start = pos + head_len;
  if (d->message_opcode != 0 || !d->fin || length > (uint64_t)(end - payload_start)) {
    return decoder_start_payload(w, s, payload_start, length);
  }
  decoder_emit(w, s, d->opcode, b, payload_start, payload_start + (long)length);
  return payload_start + (long)length;
}

static void decoder_push(worker *w, subscriber *s, const uint8_t *b, long pos, long end) {
  frame_decoder *d = &s->dec;
  while (pos < end && !d->failed && !s->destroyed) {
    if (d->state == DECODE_PAYLOAD) pos = decoder_collect_payload(w, s, b, pos, end);
    else if (d->head_fill == 0) pos = decoder_header_in_place(w, s, b, pos, end);
    else pos = decoder_collect_header(w, s, b, pos, end);
  }
}

/* ---- handshake.ts ---- */

static bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static bool is_js_space(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'; }

/** NULL when the head accepts our key, else the reason (in `reason`). */
static const char *upgrade_check(const subscriber *s, const char *head, size_t len, char *reason, size_t reason_cap) {
  const char *eol = memmem(head, len, "\r\n", 2);
  size_t status_len = eol == NULL ? len : (size_t)(eol - head);
  if (!(status_len >= 12 && memcmp(head, "HTTP/1.1 101", 12) == 0 && (status_len == 12 || !is_word_char(head[12])))) {
    snprintf(reason, reason_cap, "unexpected status: %.*s", (int)(status_len > 200 ? 200 : status_len), head);
    return reason;
  }
  uint8_t joined[64], digest[20];
  size_t key_len = strlen(s->key);
  memcpy(joined, s->key, key_len);
  memcpy(joined + key_len, ACCEPT_GUID, sizeof ACCEPT_GUID - 1);
  sha1(joined, key_len + sizeof ACCEPT_GUID - 1, digest);
  char expected[32];
  base64(digest, 20, expected);
  static const char name[] = "sec-websocket-accept:";
  size_t name_len = sizeof name - 1;
  for (size_t at = 0; at < len;) {
    const char *next = memmem(head + at, len - at, "\r\n", 2);
    size_t line_end = next == NULL ? len : (size_t)(next - head);
    const char *line = head + at;
    size_t n = line_end - at;
    if (n > name_len && strncasecmp(line, name, name_len) == 0) {
      size_t v = name_len, e = n;
      while (v < e && is_js_space(line[v])) v++;
      while (e > v && is_js_space(line[e - 1])) e--;
      if (e > v) {
        if (e - v == strlen(expected) && memcmp(line + v, expected, e - v) == 0) return NULL;
        break; /* the first Sec-WebSocket-Accept line decides */
      }
    }
    at = line_end + 2;
  }
  snprintf(reason, reason_cap, "bad Sec-WebSocket-Accept");
  return reason;
}

/** Accumulates the response head; returns the offset of the first frame byte in `b`, or -1. */
static long upgrade_push(subscriber *s, const uint8_t *b, long n) {
  size_t old = s->head_len;
  size_t take = (size_t)n < MAX_RESPONSE_HEAD_BYTES - old ? (size_t)n : MAX_RESPONSE_HEAD_BYTES - old;
  s->head = xrealloc(s->head, old + take + 1);
  memcpy(s->head + old, b, take);
  s->head_len = (uint32_t)(old + take);
  size_t from = old >= 3 ? old - 3 : 0;
  const char *found = memmem(s->head + from, s->head_len - from, "\r\n\r\n", 4);
  if (found == NULL) {
    if (s->head_len >= MAX_RESPONSE_HEAD_BYTES) sub_fail(s, "upgrade refused: response head too large");
    return -1;
  }
  size_t head_end = (size_t)(found - s->head);
  char reason[300];
  if (upgrade_check(s, s->head, head_end, reason, sizeof reason) != NULL) {
    sub_fail(s, "upgrade refused: %s", reason);
    return -1;
  }
  free(s->head);
  s->head = NULL;
  s->head_len = 0;
  return (long)(head_end + 4 - old);
}

/* ---- subscriber.ts: the session ---- */

static void session_subscribe_reply(worker *w, subscriber *s, const jdoc *d, int32_t payload) {
  int32_t topics = json_get(d, payload, "success_topics");
  if (json_is(d, topics, J_ARRAY)) {
    for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) {
      if (!json_str_eq(d, c, s->topic->name, s->topic->name_len)) continue;
      s->session = SESSION_LIVE;
      s->was_subscribed = true;
      if (s->batch_gen == atomic_load(&P.batch_gen) && atomic_fetch_sub(&P.batch_unsettled, 1) == 1) wake_control();
      return;
    }
  }
  strbuf why = {0};
  sb_puts(&why, "subscribe refused: ");
  int32_t failed = json_get(d, payload, "failed_topics");
  if (failed >= 0 && !json_is(d, failed, J_NULL)) json_restringify(&why, d, failed);
  else if (payload >= 0) json_restringify(&why, d, payload);
  else sb_puts(&why, "{}");
  free(s->last_error);
  s->last_error = why.p;
  sub_close(w, s, 1000);
}

/** Before the subscription is confirmed: server_ready, the subscribe reply, or an error. */
static void session_message(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  long len = end - start;
  if (len < 2 || b[start] != '{' || len > MAX_SESSION_MESSAGE_BYTES) return;
  jdoc *d = &w->session_doc;
  int32_t root = json_parse(d, (const char *)b + start, (size_t)len);
  if (!json_is(d, root, J_OBJECT)) return;
  int32_t type = json_get(d, root, "t");
  int32_t payload = json_get(d, root, "p");
  if (json_is(d, payload, J_NULL)) payload = -1;
  if (json_str_eq(d, type, "server_ready", 12) && s->session == SESSION_AWAIT_READY) {
    s->session = SESSION_SUBSCRIBING;
    sub_send_text(w, s, CLIENT_HELLO, sizeof CLIENT_HELLO - 1);
    sub_send_text(w, s, s->topic->subscribe_json, s->topic->subscribe_len);
  } else if (json_str_eq(d, type, "subscription_update", 19) && s->session == SESSION_SUBSCRIBING) {
    session_subscribe_reply(w, s, d, payload);
  } else if (json_str_eq(d, type, "error", 5)) {
    strbuf why = {0};
    json_js_string(&why, d, json_get(d, payload, "code"));
    sb_puts(&why, ": ");
    json_js_string(&why, d, json_get(d, payload, "message"));
    free(s->last_error);
    s->last_error = why.p;
  }
}

static void session_on_text(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  if (s->session != SESSION_LIVE) {
    session_message(w, s, b, start, end);
    return;
  }
  pub_scanner *sc = &w->stats.scanner;
  if (!scan_publication(sc, b, start, end)) {
    w->stats.other_frames++;
    /* PROTOCOL.md §6: answer the server's ping so an idle timeout never closes a listener. */
    long head = end - start < 40 ? end - start : 40;
    if (memmem(b + start, (size_t)head, "\"t\":\"ping\"", 10) != NULL) sub_send_text(w, s, PONG_TEXT, sizeof PONG_TEXT - 1);
    return;
  }
  s->delivered++;
  if (sc->seq >= 0) seq_observe(&s->seq, sc->seq);
  seq_observe(&s->offsets, sc->offset);
  stats_record(&w->stats, (uint64_t)(end - start), sc->ts);
}

static void session_on_binary(worker *w, subscriber *s, const uint8_t *b, long start, long end) {
  if (s->session != SESSION_LIVE) session_message(w, s, b, start, end);
  else w->stats.other_frames++;
}

/* ---- socket lifecycle (raw-websocket.ts) ---- */

static void worker_count_close(worker *w, int code) {
  for (uint32_t i = 0; i < w->close_codes; i++) {
    if (w->close_code[i] == code) {
      w->close_count[i]++;
      return;
    }
  }
  uint32_t i = w->close_codes < MAX_CLOSE_CODES ? w->close_codes++ : MAX_CLOSE_CODES - 1;
  w->close_code[i] = code;
  w->close_count[i]++;
}

static void sub_release(worker *w, subscriber *s) {
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  if (s->in_grace) w->in_grace--;
  s->in_grace = false;
  free(s->out);
  free(s->head);
  free(s->dec.assembly);
  s->out = NULL;
  s->head = NULL;
  s->dec.assembly = NULL;
  s->out_len = s->head_len = s->dec.assembly_len = s->dec.assembly_cap = 0;
  s->conn = CONN_CLOSED;
  s->session = SESSION_CLOSED;
}

/** The socket's 'close': raw-websocket.ts finish → subscriber.ts onClose → subscriber-pool.ts onClosed. */
static void sub_finish(worker *w, subscriber *s) {
  if (s->conn == CONN_CLOSED) return;
  sub_release(w, s);
  if (s->failure != NULL && s->last_error == NULL) s->last_error = strdup(s->failure);
  if (atomic_fetch_sub(&P.open, 1) == 1) wake_control();
  if (s->was_subscribed) {
    if (!atomic_load(&P.closing)) worker_count_close(w, s->close_code);
    return;
  }
  w->connect_failures++;
  if (s->last_error != NULL) {
    record_first_error(s->last_error);
  } else {
    char message[32];
    snprintf(message, sizeof message, "closed %d", s->close_code);
    record_first_error(message);
  }
  if (s->batch_gen == atomic_load(&P.batch_gen) && atomic_fetch_sub(&P.batch_unsettled, 1) == 1) wake_control();
}

/** Close handshake (RFC 6455 §5.5.1); the socket is destroyed if the peer does not finish it. */
static void sub_close(worker *w, subscriber *s, int code) {
  if (s->conn == CONN_CLOSED) return;
  if (s->conn == CONN_CONNECTING || s->conn == CONN_UPGRADING) {
    /* No WebSocket yet: Node would end the socket and see 1006 at the latest after the grace. */
    s->destroyed = true;
    return;
  }
  if (s->conn == CONN_OPEN) {
    uint8_t payload[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    sub_send_frame(w, s, OP_CLOSE, payload, 2);
  }
  s->conn = CONN_CLOSING;
  if (s->out_len > 0) s->shut_after_flush = true;
  else if (s->fd >= 0) shutdown(s->fd, SHUT_WR);
  if (!s->in_grace) {
    s->in_grace = true;
    s->grace_deadline_ms = mono_ms() + CLOSE_GRACE_MS;
    w->in_grace++;
  }
}

static void sub_on_connected(worker *w, subscriber *s) {
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0) error = errno;
  if (error != 0) {
    sub_fail(s, "connect %s %s", errno_name(error), s->target->endpoint);
    return;
  }
  s->conn = CONN_UPGRADING;
  sub_watch(w, s, EPOLLIN);
  const target *t = s->target;
  size_t n = t->before_len + 24 + t->after_len;
  if (w->scratch_cap < n) {
    w->scratch = xrealloc(w->scratch, n);
    w->scratch_cap = n;
  }
  memcpy(w->scratch, t->head_before_key, t->before_len);
  memcpy(w->scratch + t->before_len, s->key, 24);
  memcpy(w->scratch + t->before_len + 24, t->head_after_key, t->after_len);
  sub_write(w, s, w->scratch, n);
}

static void sub_on_chunk(worker *w, subscriber *s, long n) {
  stats_on_read(&w->stats);
  if (s->conn != CONN_UPGRADING) {
    decoder_push(w, s, w->rbuf, 0, n);
    return;
  }
  long body = upgrade_push(s, w->rbuf, n);
  if (body < 0) return;
  s->conn = CONN_OPEN;
  decoder_push(w, s, w->rbuf, body, n);
}

static void sub_read(worker *w, subscriber *s) {
  for (int round = 0; round < MAX_READS_PER_EVENT && !s->destroyed; round++) {
    ssize_t n = read(s->fd, w->rbuf, READ_CHUNK_BYTES);
    if (n > 0) {
      sub_on_chunk(w, s, (long)n);
      if (n < READ_CHUNK_BYTES) return;
    } else if (n == 0) {
      s->destroyed = true; /* the peer ended: 'end', then 'close' */
      return;
    } else if (errno == EINTR) {
      continue;
    } else {
      if (errno != EAGAIN && errno != EWOULDBLOCK) sub_fail(s, "read %s", errno_name(errno));
      return;
    }
  }
}

static void sub_on_event(worker *w, subscriber *s, uint32_t events) {
  if (s->conn == CONN_CLOSED) return;
  if (s->conn == CONN_CONNECTING) {
    sub_on_connected(w, s);
  } else {
    if ((events & EPOLLOUT) && s->out_len > 0) sub_flush(w, s);
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !s->destroyed) sub_read(w, s);
  }
  if (s->destroyed) sub_finish(w, s);
}

static void sub_create(worker *w, const target *t, const topic *tp, uint32_t gen) {
  subscriber *s = xcalloc(1, sizeof *s);
  s->fd = -1;
  s->conn = CONN_CONNECTING;
  s->session = SESSION_AWAIT_READY;
  s->close_code = 1006;
  s->batch_gen = gen;
  s->target = t;
  s->topic = tp;
  seq_init(&s->seq, true, 0);
  seq_init(&s->offsets, false, 0);
  uint8_t raw[16];
  uint64_t r1 = rng_next(&w->rng), r2 = rng_next(&w->rng);
  memcpy(raw, &r1, 8);
  memcpy(raw + 8, &r2, 8);
  base64(raw, 16, s->key);
  if (w->sub_count == w->sub_cap) {
    w->sub_cap = w->sub_cap == 0 ? 256 : w->sub_cap * 2;
    w->subs = xrealloc(w->subs, w->sub_cap * sizeof *w->subs);
  }
  w->subs[w->sub_count++] = s;
  atomic_fetch_add(&P.open, 1);

  if (t->resolve_error != NULL) {
    sub_fail(s, "%s", t->resolve_error);
  } else if ((s->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
    sub_fail(s, "connect %s %s", errno_name(errno), t->endpoint);
  } else {
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (t->has_local) {
#ifdef IP_BIND_ADDRESS_NO_PORT
      /* The port is chosen at connect(), per destination: each source address gives its own range. */
      setsockopt(s->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      if (bind(s->fd, (const struct sockaddr *)&t->local, t->local_len) < 0) {
        sub_fail(s, "bind %s %s", errno_name(errno), t->local_name);
      }
    }
    if (!s->destroyed && connect(s->fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
      sub_fail(s, "connect %s %s", errno_name(errno), t->endpoint);
    }
    if (!s->destroyed) {
      struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
      if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) sub_fail(s, "epoll %s", errno_name(errno));
    }
  }
  if (s->destroyed) sub_finish(w, s);
}

/* ---- worker ---- */

static void worker_snapshot(worker *w, snapshot *out, bool light) {
  const delivery_stats *st = &w->stats;
  out->subscribers = w->sub_count;
  out->live = 0;
  out->connect_failures = w->connect_failures;
  out->deliveries = st->deliveries;
  out->bytes = st->bytes;
  out->window_deliveries = st->window_deliveries;
  out->window_bytes = st->window_bytes;
  out->other_frames = st->other_frames;
  out->seq_gaps = out->seq_duplicates = out->offset_gaps = out->offset_duplicates = 0;
  out->any_live = false;
  out->min_last_seq = INT64_MAX;
  for (uint32_t i = 0; i < w->sub_count; i++) {
    const subscriber *s = w->subs[i];
    out->seq_gaps += s->seq.gaps;
    out->seq_duplicates += s->seq.duplicates;
    out->offset_gaps += s->offsets.gaps;
    out->offset_duplicates += s->offsets.duplicates;
    if (!light && s->topic->id < out->topic_count) {
      out->topic_subscribers[s->topic->id]++;
      out->topic_deliveries[s->topic->id] += s->delivered;
    }
    if (s->session != SESSION_LIVE) continue;
    out->live++;
    out->any_live = true;
    if (s->seq.last < out->min_last_seq) out->min_last_seq = s->seq.last;
  }
  out->close_codes = w->close_codes;
  memcpy(out->close_code, w->close_code, sizeof w->close_code);
  memcpy(out->close_count, w->close_count, sizeof w->close_count);
  if (!light) out->latency = st->latency;
}

static void worker_close_all(worker *w) {
  for (uint32_t i = 0; i < w->sub_count; i++) {
    subscriber *s = w->subs[i];
    sub_close(w, s, 1000);
    if (s->destroyed) sub_finish(w, s);
  }
}

/** Drops every subscriber, still open or not, and zeroes the counters (closeAll's reset). */
static void worker_reset(worker *w) {
  for (uint32_t i = 0; i < w->sub_count; i++) {
    subscriber *s = w->subs[i];
    if (s->conn != CONN_CLOSED) {
      sub_release(w, s);
      atomic_fetch_sub(&P.open, 1);
    }
    free(s->last_error);
    free(s->failure);
    free(s);
  }
  w->sub_count = 0;
  w->in_grace = 0;
  w->connect_failures = 0;
  w->close_codes = 0;
  memset(w->close_count, 0, sizeof w->close_count);
  stats_reset(&w->stats);
}

static void worker_run_command(worker *w) {
  command *c = &w->cmd;
  switch (c->kind) {
    case CMD_OPEN:
      for (uint32_t i = 0; i < c->count; i++) {
        if ((c->first_subscriber + i) % (uint64_t)P.threads != (uint64_t)w->id) continue;
        sub_create(w, c->target, c->topics[(c->topic_base + i) % c->topic_count], c->gen);
      }
      break;
    case CMD_WINDOW:
      w->stats.window_start = c->start_us;
      w->stats.window_end = c->end_us;
      break;
    case CMD_SNAPSHOT: worker_snapshot(w, c->out, c->light); break;
    case CMD_CLOSE_ALL: worker_close_all(w); break;
    case CMD_RESET: worker_reset(w); break;
  }
  atomic_store_explicit(&w->cmd_pending, 0, memory_order_release);
  wake_control();
}

static void worker_check_graces(worker *w) {
  int64_t now = mono_ms();
  if (now < w->next_grace_check_ms) return;
  w->next_grace_check_ms = now + GRACE_CHECK_MS;
  for (uint32_t i = 0; i < w->sub_count && w->in_grace > 0; i++) {
    subscriber *s = w->subs[i];
    if (s->in_grace && s->conn != CONN_CLOSED && now >= s->grace_deadline_ms) sub_finish(w, s);
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  struct epoll_event events[EPOLL_BATCH];
  for (;;) {
    int n = epoll_wait(w->epfd, events, EPOLL_BATCH, w->in_grace > 0 ? GRACE_CHECK_MS : -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait: %s", strerror(errno));
    }
    bool has_command = false;
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr == NULL) has_command = true;
      else sub_on_event(w, events[i].data.ptr, events[i].events);
    }
    /* After the batch: a reset frees subscribers that later events of this batch point to. */
    if (has_command) {
      uint64_t v;
      ssize_t r = read(w->cmd_fd, &v, sizeof v);
      (void)r;
      if (atomic_load_explicit(&w->cmd_pending, memory_order_acquire)) worker_run_command(w);
    }
    if (w->in_grace > 0) worker_check_graces(w);
  }
  return NULL;
}

static void worker_start(worker *w, int id) {
  w->id = id;
  w->rbuf = xrealloc(NULL, READ_CHUNK_BYTES);
  w->rng = rng_seed() ^ ((uint64_t)id << 48);
  w->session_doc.max_nodes = MAX_SESSION_JSON_NODES;
  stats_reset(&w->stats);
  w->stats.scanner.offset_hint = w->stats.scanner.seq_hint = -1;
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  w->cmd_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->epfd < 0 || w->cmd_fd < 0) die("epoll/eventfd: %s", strerror(errno));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->cmd_fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0) die("pthread_create failed");
}

/* ------------------------------------------------------------------------------------------ */
/* Control thread: IPC lines, waits that keep the channel and the window timers serviced.      */

static struct {
  char *buf;
  size_t len, cap;
  size_t line_start; /* where the incomplete last line begins in buf */
  bool discarding;   /* a line over MAX_IPC_LINE_BYTES: dropped, its id looked for in its tail */
  char tail[64];
  size_t tail_len;
} ipc;

/** subscriber-pool.ts setWindow: window-local CPU, taken by timers at the window's edges. */
static struct {
  bool start_armed, end_armed;
  double start_us, end_us;
  bool have_cpu_start;
  int64_t cpu_at_start;
  int64_t cpu_micros;
  double cpu_wall_micros;
} win;

static void reply_error(double id, const char *message);

static void ipc_keep_tail(const char *p, size_t n) {
  if (n >= sizeof ipc.tail) {
    memcpy(ipc.tail, p + n - sizeof ipc.tail, sizeof ipc.tail);
    ipc.tail_len = sizeof ipc.tail;
    return;
  }
  size_t keep = ipc.tail_len + n > sizeof ipc.tail ? sizeof ipc.tail - n : ipc.tail_len;
  memmove(ipc.tail, ipc.tail + ipc.tail_len - keep, keep);
  memcpy(ipc.tail + keep, p, n);
  ipc.tail_len = keep + n;
}

/** The end of an over-long line: answered with an error if its id can be found. */
static void ipc_discarded_line(void) {
  char tail[sizeof ipc.tail + 1], message[128];
  memcpy(tail, ipc.tail, ipc.tail_len);
  tail[ipc.tail_len] = '\0';
  snprintf(message, sizeof message, "command line longer than %u bytes", MAX_IPC_LINE_BYTES);
  /* LoadClient writes `{...body, id}`: the id is the last member. */
  const char *at = strstr(tail, "\"id\":");
  if (at != NULL) reply_error(strtod(at + 5, NULL), message);
  else fprintf(stderr, "wse-load: %s, no id found; dropped\n", message);
}

static void ipc_append(const char *p, size_t n) {
  while (n > 0) {
    if (ipc.discarding) {
      const char *nl = memchr(p, '\n', n);
      size_t upto = nl == NULL ? n : (size_t)(nl - p);
      ipc_keep_tail(p, upto);
      if (nl == NULL) return;
      ipc.discarding = false;
      ipc_discarded_line();
      p += upto + 1, n -= upto + 1;
      continue;
    }
    const char *nl = memchr(p, '\n', n);
    size_t upto = nl == NULL ? n : (size_t)(nl - p) + 1;
    if (ipc.len - ipc.line_start + upto > MAX_IPC_LINE_BYTES) {
      ipc.discarding = true;
      ipc.tail_len = 0;
      ipc_keep_tail(ipc.buf + ipc.line_start, ipc.len - ipc.line_start);
      ipc.len = ipc.line_start;
      continue;
    }
    if (ipc.len + upto + 1 > ipc.cap) {
      size_t cap = ipc.cap == 0 ? 65536 : ipc.cap;
      while (cap < ipc.len + upto + 1) cap *= 2;
      ipc.buf = xrealloc(ipc.buf, cap);
      ipc.cap = cap;
    }
    memcpy(ipc.buf + ipc.len, p, upto);
    ipc.len += upto;
    if (nl != NULL) ipc.line_start = ipc.len;
    p += upto, n -= upto;
  }
}

/** Reads what the channel holds (it is non-blocking); exits when the parent closed it. */
static void ipc_fill(void) {
  char chunk[65536];
  for (int round = 0; round < 64; round++) {
    ssize_t n = read(P.ipc_fd, chunk, sizeof chunk);
    if (n == 0) exit(0); /* load-process.ts: exit when the channel closes */
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == ECONNRESET) exit(0);
      die("IPC read: %s", strerror(errno));
    }
    ipc_append(chunk, (size_t)n);
  }
}

static void window_fire_due(void) {
  double now = now_us();
  if (win.start_armed && now >= win.start_us) {
    win.start_armed = false;
    win.cpu_at_start = cpu_total_us();
    win.have_cpu_start = true;
  }
  if (win.end_armed && now >= win.end_us) {
    win.end_armed = false;
    int64_t total = cpu_total_us();
    win.cpu_micros = win.have_cpu_start ? total - win.cpu_at_start : total;
    win.cpu_wall_micros = win.end_us - win.start_us;
  }
}

/** Waits up to `timeout_ms` (-1: until something happens) for the channel, a worker or a window edge. */
static void control_poll(int64_t timeout_ms) {
  double now = now_us();
  if (win.start_armed) {
    int64_t due = (int64_t)((win.start_us - now) / 1000) + 1;
    if (timeout_ms < 0 || due < timeout_ms) timeout_ms = due < 0 ? 0 : due;
  } else if (win.end_armed) {
    int64_t due = (int64_t)((win.end_us - now) / 1000) + 1;
    if (timeout_ms < 0 || due < timeout_ms) timeout_ms = due < 0 ? 0 : due;
  }
  struct pollfd fds[2] = {{.fd = P.ipc_fd, .events = POLLIN}, {.fd = P.wake_fd, .events = POLLIN}};
  int r = poll(fds, 2, timeout_ms > 0x7fffffff ? 0x7fffffff : (int)timeout_ms);
  if (r > 0) {
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) ipc_fill();
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      ssize_t n = read(P.wake_fd, &v, sizeof v);
      (void)n;
    }
  }
  window_fire_due();
}

/** Posts `c` to every worker and waits until each has run it. */
static void workers_run(const command *c) {
  for (int i = 0; i < P.threads; i++) {
    worker *w = &P.workers[i];
    w->cmd = *c;
    if (c->kind == CMD_SNAPSHOT) w->cmd.out = &c->out[i];
    atomic_store_explicit(&w->cmd_pending, 1, memory_order_release);
    uint64_t one = 1;
    ssize_t r = write(w->cmd_fd, &one, sizeof one);
    (void)r;
  }
  int64_t deadline = mono_ms() + WORKER_REPLY_TIMEOUT_MS;
  for (int i = 0; i < P.threads; i++) {
    while (atomic_load_explicit(&P.workers[i].cmd_pending, memory_order_acquire)) {
      if (mono_ms() > deadline) die("worker %d did not answer within %d ms", i, WORKER_REPLY_TIMEOUT_MS);
      control_poll(10);
    }
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Targets and topics of the connect commands                                                   */

/** Buffer.from(text, 'latin1') of a UTF-8 string: each UTF-16 unit's low byte. */
static void sb_latin1(strbuf *b, const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    uint32_t cp;
    size_t len;
    if (c < 0x80) cp = c, len = 1;
    else if ((c & 0xE0) == 0xC0 && i + 1 < n) cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3F), len = 2;
    else if ((c & 0xF0) == 0xE0 && i + 2 < n) cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3F), len = 3;
    else if ((c & 0xF8) == 0xF0 && i + 3 < n) cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3F), len = 4;
    else cp = 0xFFFD, len = 1;
    if (cp >= 0x10000) {
      char pair[2] = {(char)(0xD800 + ((cp - 0x10000) >> 10)), (char)(0xDC00 + ((cp - 0x10000) & 0x3FF))};
      sb_put(b, pair, 2);
    } else {
      char one = (char)(cp & 0xFF);
      sb_put(b, &one, 1);
    }
    i += len;
  }
}

static const char *resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *out_len, char *error, size_t cap) {
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
  char service[16];
  snprintf(service, sizeof service, "%d", port);
  int r = getaddrinfo(host, service, &hints, &found);
  if (r != 0 || found == NULL) {
    snprintf(error, cap, "getaddrinfo %s %s", r == EAI_NONAME ? "ENOTFOUND" : gai_strerror(r), host);
    return error;
  }
  memcpy(out, found->ai_addr, found->ai_addrlen);
  *out_len = found->ai_addrlen;
  freeaddrinfo(found);
  return NULL;
}

/** A target from `spec.request` (handshake.ts UpgradeRequest); NULL with `error` on a bad spec. */
static target *target_from(const jdoc *d, int32_t request, char *error, size_t cap) {
  int32_t host = json_get(d, request, "host"), port = json_get(d, request, "port"), path = json_get(d, request, "path");
  int32_t headers = json_get(d, request, "headers"), local = json_get(d, request, "localAddress");
  if (!json_is(d, request, J_OBJECT) || !json_is(d, host, J_STRING) || !json_is(d, path, J_STRING) || !json_is(d, port, J_NUMBER)) {
    snprintf(error, cap, "connect: spec.request needs host (string), port (number) and path (string)");
    return NULL;
  }
  double port_number = d->nodes[port].num;
  if (!(port_number >= 0 && port_number <= 65535) || port_number != (double)(int)port_number) {
    snprintf(error, cap, "connect: spec.request.port is not a port: %g", port_number);
    return NULL;
  }
  if (headers >= 0 && !json_is(d, headers, J_OBJECT) && !json_is(d, headers, J_NULL)) {
    snprintf(error, cap, "connect: spec.request.headers must be an object");
    return NULL;
  }
  if (local >= 0 && !json_is(d, local, J_STRING) && !json_is(d, local, J_NULL)) {
    snprintf(error, cap, "connect: spec.request.localAddress must be a string");
    return NULL;
  }
  target *t = xcalloc(1, sizeof *t);
  const char *host_name = d->nodes[host].str;
  int port_int = (int)port_number;
  strbuf endpoint = {0};
  sb_printf(&endpoint, "%s:%d", host_name, port_int);
  t->endpoint = endpoint.p;
  char why[300];
  if (resolve(host_name, port_int, &t->addr, &t->addr_len, why, sizeof why) != NULL) t->resolve_error = strdup(why);
  if (json_is(d, local, J_STRING)) {
    t->local_name = strdup(d->nodes[local].str);
    if (resolve(t->local_name, 0, &t->local, &t->local_len, why, sizeof why) != NULL) {
      if (t->resolve_error == NULL) t->resolve_error = strdup(why);
    } else {
      t->has_local = true;
    }
  }
  /* handshake.ts buildUpgradeRequest: no extensions offered (PROTOCOL.md §1). */
  strbuf before = {0}, after = {0}, text = {0};
  sb_printf(&text, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ",
            d->nodes[path].str, host_name, port_int);
  sb_latin1(&before, text.p, text.len);
  sb_free(&text);
  sb_puts(&text, "\r\nSec-WebSocket-Version: 13\r\n");
  if (json_is(d, headers, J_OBJECT)) {
    for (int32_t h = d->nodes[headers].child; h >= 0; h = d->nodes[h].next) {
      sb_put(&text, d->nodes[h].key, d->nodes[h].key_len);
      sb_puts(&text, ": ");
      json_js_string(&text, d, h);
      sb_puts(&text, "\r\n");
    }
  }
  sb_puts(&text, "\r\n");
  sb_latin1(&after, text.p, text.len);
  sb_free(&text);
  t->head_before_key = before.p;
  t->before_len = before.len;
  t->head_after_key = after.p;
  t->after_len = after.len;
  if (P.target_count == P.target_cap) {
    P.target_cap = P.target_cap == 0 ? 8 : P.target_cap * 2;
    P.targets = xrealloc(P.targets, P.target_cap * sizeof *P.targets);
  }
  P.targets[P.target_count++] = t;
  return t;
}

static uint32_t topic_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/** The one topic record of this name (subscribers keep pointers to it until closeAll). */
static topic *topic_intern(const char *name, size_t n) {
  if ((P.topic_count + 1) * 2 > P.topic_index_cap) {
    uint32_t cap = P.topic_index_cap == 0 ? 64 : P.topic_index_cap * 2;
    uint32_t *index = xrealloc(NULL, cap * sizeof *index);
    for (uint32_t i = 0; i < cap; i++) index[i] = UINT32_MAX;
    for (uint32_t t = 0; t < P.topic_count; t++) {
      uint32_t at = topic_hash(P.topics[t]->name, P.topics[t]->name_len) & (cap - 1);
      while (index[at] != UINT32_MAX) at = (at + 1) & (cap - 1);
      index[at] = t;
    }
    free(P.topic_index);
    P.topic_index = index;
    P.topic_index_cap = cap;
  }
  uint32_t at = topic_hash(name, n) & (P.topic_index_cap - 1);
  for (; P.topic_index[at] != UINT32_MAX; at = (at + 1) & (P.topic_index_cap - 1)) {
    topic *t = P.topics[P.topic_index[at]];
    if (t->name_len == n && memcmp(t->name, name, n) == 0) return t;
  }
  topic *t = xcalloc(1, sizeof *t);
  t->name = xstrndup(name, n);
  t->name_len = n;
  t->id = P.topic_count;
  strbuf json = {0};
  sb_puts(&json, "{\"t\":\"subscription_update\",\"p\":{\"action\":\"subscribe\",\"topics\":[");
  sb_json_string(&json, name, n);
  sb_puts(&json, "]}}");
  t->subscribe_json = json.p;
  t->subscribe_len = json.len;
  if (P.topic_count == P.topic_cap) {
    P.topic_cap = P.topic_cap == 0 ? 16 : P.topic_cap * 2;
    P.topics = xrealloc(P.topics, P.topic_cap * sizeof *P.topics);
  }
  P.topics[P.topic_count++] = t;
  P.topic_index[at] = t->id;
  return t;
}

/** closeAll's reset of what the connects built (workers hold no pointers any more). */
static void forget_targets_and_topics(void) {
  for (size_t i = 0; i < P.target_count; i++) {
    target *t = P.targets[i];
    free(t->resolve_error);
    free(t->endpoint);
    free(t->local_name);
    free(t->head_before_key);
    free(t->head_after_key);
    free(t);
  }
  P.target_count = 0;
  for (uint32_t i = 0; i < P.topic_count; i++) {
    free(P.topics[i]->name);
    free(P.topics[i]->subscribe_json);
    free(P.topics[i]);
  }
  P.topic_count = 0;
  for (uint32_t i = 0; i < P.topic_index_cap; i++) P.topic_index[i] = UINT32_MAX;
}

/* ------------------------------------------------------------------------------------------ */
/* Reports: every worker's snapshot merged into one PoolReport                                  */

static snapshot *snapshots;

static snapshot *take_snapshots(bool light) {
  for (int i = 0; i < P.threads; i++) {
    snapshot *s = &snapshots[i];
    s->topic_count = light ? 0 : P.topic_count;
    if (!light) {
      s->topic_subscribers = xcalloc(P.topic_count, sizeof(uint64_t));
      s->topic_deliveries = xcalloc(P.topic_count, sizeof(uint64_t));
    }
  }
  command c = {.kind = CMD_SNAPSHOT, .out = snapshots, .light = light};
  workers_run(&c);
  return snapshots;
}

static uint64_t total_deliveries(const snapshot *s) {
  uint64_t n = 0;
  for (int i = 0; i < P.threads; i++) n += s[i].deliveries;
  return n;
}

/** subscriber-pool.ts minLastSeq: lowest last sequence over live subscribers; -1 without any. */
static int64_t min_last_seq(const snapshot *s) {
  bool any = false;
  int64_t min = INT64_MAX;
  for (int i = 0; i < P.threads; i++) {
    if (!s[i].any_live) continue;
    any = true;
    if (s[i].min_last_seq < min) min = s[i].min_last_seq;
  }
  return any ? min : -1;
}

static void report_json(strbuf *b) {
  /* A command answered without waiting (e.g. a settle already met) must still see a window edge
   * that has passed: otherwise the window's CPU figures would read 0. */
  window_fire_due();
  snapshot *s = take_snapshots(false);
  snapshot sum;
  memset(&sum, 0, sizeof sum);
  hist_reset(&sum.latency);
  int codes = 0;
  int code[MAX_CLOSE_CODES * 4];
  uint64_t code_count[MAX_CLOSE_CODES * 4];
  for (int i = 0; i < P.threads; i++) {
    sum.subscribers += s[i].subscribers;
    sum.live += s[i].live;
    sum.connect_failures += s[i].connect_failures;
    sum.deliveries += s[i].deliveries;
    sum.bytes += s[i].bytes;
    sum.window_deliveries += s[i].window_deliveries;
    sum.window_bytes += s[i].window_bytes;
    sum.other_frames += s[i].other_frames;
    sum.seq_gaps += s[i].seq_gaps;
    sum.seq_duplicates += s[i].seq_duplicates;
    sum.offset_gaps += s[i].offset_gaps;
    sum.offset_duplicates += s[i].offset_duplicates;
    hist_merge(&sum.latency, &s[i].latency);
    for (uint32_t k = 0; k < s[i].close_codes; k++) {
      int j = 0;
      while (j < codes && code[j] != s[i].close_code[k]) j++;
      if (j == codes) {
        if (codes == (int)(sizeof code / sizeof code[0])) j = codes - 1;
        else code[codes] = s[i].close_code[k], code_count[codes++] = 0;
      }
      code_count[j] += s[i].close_count[k];
    }
  }
  sb_printf(b, "{\"subscribers\":%llu,\"live\":%llu,\"connectFailures\":%llu,\"firstError\":",
            (unsigned long long)sum.subscribers, (unsigned long long)sum.live, (unsigned long long)sum.connect_failures);
  pthread_mutex_lock(&P.error_lock);
  const char *first = P.first_error == NULL ? "" : P.first_error;
  sb_json_string(b, first, strlen(first));
  pthread_mutex_unlock(&P.error_lock);
  sb_puts(b, ",\"closes\":{");
  for (int j = 0; j < codes; j++) sb_printf(b, "%s\"%d\":%llu", j == 0 ? "" : ",", code[j], (unsigned long long)code_count[j]);
  sb_printf(b,
            "},\"deliveries\":%llu,\"bytes\":%llu,\"windowDeliveries\":%llu,\"windowBytes\":%llu,\"otherFrames\":%llu,"
            "\"seqGaps\":%llu,\"seqDuplicates\":%llu,\"offsetGaps\":%llu,\"offsetDuplicates\":%llu,\"minLastSeq\":%lld,\"perTopic\":{",
            (unsigned long long)sum.deliveries, (unsigned long long)sum.bytes, (unsigned long long)sum.window_deliveries,
            (unsigned long long)sum.window_bytes, (unsigned long long)sum.other_frames, (unsigned long long)sum.seq_gaps,
            (unsigned long long)sum.seq_duplicates, (unsigned long long)sum.offset_gaps,
            (unsigned long long)sum.offset_duplicates, (long long)min_last_seq(s));
  bool first_topic = true;
  for (uint32_t t = 0; t < P.topic_count; t++) {
    uint64_t subs = 0, delivered = 0;
    for (int i = 0; i < P.threads; i++) subs += s[i].topic_subscribers[t], delivered += s[i].topic_deliveries[t];
    if (subs == 0) continue;
    if (!first_topic) sb_put(b, ",", 1);
    first_topic = false;
    sb_json_string(b, P.topics[t]->name, P.topics[t]->name_len);
    sb_printf(b, ":{\"subscribers\":%llu,\"deliveries\":%llu}", (unsigned long long)subs, (unsigned long long)delivered);
  }
  sb_printf(b, "},\"cpuMicros\":%lld,\"cpuWallMicros\":", (long long)win.cpu_micros);
  sb_number(b, win.cpu_wall_micros);
  sb_printf(b, ",\"cpuTotalMicros\":%lld,\"reportedAtMicros\":", (long long)cpu_total_us());
  sb_number(b, now_us());
  sb_puts(b, ",\"latency\":");
  hist_json(b, &sum.latency);
  sb_puts(b, "}");
  for (int i = 0; i < P.threads; i++) {
    free(s[i].topic_subscribers);
    free(s[i].topic_deliveries);
    s[i].topic_subscribers = s[i].topic_deliveries = NULL;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Replies                                                                                      */

static void ipc_write(const char *data, size_t n) {
  int64_t deadline = mono_ms() + IPC_WRITE_TIMEOUT_MS;
  while (n > 0) {
    ssize_t k = write(P.ipc_fd, data, n);
    if (k > 0) {
      data += k;
      n -= (size_t)k;
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && mono_ms() < deadline) {
      struct pollfd p = {.fd = P.ipc_fd, .events = POLLOUT};
      poll(&p, 1, 100);
      continue;
    }
    if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) exit(0); /* the parent is gone */
    die("IPC write failed: %s", k < 0 ? strerror(errno) : "no progress");
  }
}

static void reply_send(strbuf *b) {
  sb_put(b, "\n", 1);
  ipc_write(b->p, b->len);
  sb_free(b);
}

static void reply_error(double id, const char *message) {
  strbuf b = {0};
  sb_puts(&b, "{\"id\":");
  sb_number(&b, id);
  sb_puts(&b, ",\"ok\":false,\"error\":");
  sb_json_string(&b, message, strlen(message));
  sb_puts(&b, "}");
  reply_send(&b);
}

static void reply_ok(double id, bool with_report) {
  strbuf b = {0};
  sb_puts(&b, "{\"id\":");
  sb_number(&b, id);
  sb_puts(&b, ",\"ok\":true");
  if (with_report) {
    sb_puts(&b, ",\"report\":");
    report_json(&b);
  }
  sb_puts(&b, "}");
  reply_send(&b);
}

/* ------------------------------------------------------------------------------------------ */
/* Commands (load-process.ts execute)                                                           */

static bool number_member(const jdoc *d, int32_t obj, const char *key, double *out) {
  int32_t v = json_get(d, obj, key);
  if (!json_is(d, v, J_NUMBER)) return false;
  *out = d->nodes[v].num;
  return true;
}

/** Opens one batch and waits until every one of its subscribers subscribed or failed. */
static bool open_batch(const target *t, topic **topics, uint32_t topic_count, uint64_t topic_base, uint32_t size, double timeout_ms) {
  uint32_t gen = atomic_fetch_add(&P.batch_gen, 1) + 1;
  atomic_store(&P.batch_unsettled, (int64_t)size);
  int64_t deadline = mono_ms() + (int64_t)timeout_ms;
  command c = {.kind = CMD_OPEN, .target = t, .topics = topics, .topic_count = topic_count, .topic_base = topic_base,
               .first_subscriber = P.next_subscriber, .count = size, .gen = gen};
  P.next_subscriber += size;
  workers_run(&c);
  while (atomic_load(&P.batch_unsettled) > 0) {
    int64_t left = deadline - mono_ms();
    if (left <= 0) return false;
    control_poll(left < 10 ? left : 10);
  }
  return true;
}

static void command_connect(double id, const jdoc *d, int32_t spec) {
  char error[512];
  double offset, count, batch, batch_timeout;
  int32_t topics = json_get(d, spec, "topics");
  if (!json_is(d, spec, J_OBJECT) || !number_member(d, spec, "offset", &offset) || !number_member(d, spec, "count", &count) ||
      !number_member(d, spec, "batch", &batch) || !number_member(d, spec, "batchTimeoutMs", &batch_timeout)) {
    reply_error(id, "connect: spec needs offset, count, batch and batchTimeoutMs (numbers)");
    return;
  }
  if (!(offset >= 0 && offset < 9e15) || !(count >= 0 && count <= 1e8) || !(batch >= 1) || !(batch_timeout >= 0 && batch_timeout < 1e10)) {
    reply_error(id, "connect: spec.offset, count, batchTimeoutMs must be >= 0 and spec.batch >= 1");
    return;
  }
  uint32_t topic_count = 0;
  if (json_is(d, topics, J_ARRAY)) {
    for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) {
      if (!json_is(d, c, J_STRING)) topic_count = MAX_TOPICS + 1;
      else topic_count++;
    }
  }
  if (topic_count == 0 || topic_count > MAX_TOPICS) {
    reply_error(id, "connect: spec.topics must be a non-empty array of strings");
    return;
  }
  target *t = target_from(d, json_get(d, spec, "request"), error, sizeof error);
  if (t == NULL) {
    reply_error(id, error);
    return;
  }
  /* Interned topics stay valid until closeAll; the spec's own list only for this command. */
  topic **list = xcalloc(topic_count, sizeof *list);
  uint32_t k = 0;
  for (int32_t c = d->nodes[topics].child; c >= 0; c = d->nodes[c].next) list[k++] = topic_intern(d->nodes[c].str, d->nodes[c].str_len);
  atomic_store(&P.closing, false);
  uint64_t total = (uint64_t)count, size_max = batch > 1e8 ? 100000000 : (uint64_t)batch;
  bool in_time = true;
  for (uint64_t opened = 0; opened < total && in_time;) {
    uint32_t size = (uint32_t)(size_max < total - opened ? size_max : total - opened);
    in_time = open_batch(t, list, topic_count, (uint64_t)offset + opened, size, batch_timeout);
    opened += size;
  }
  free(list);
  if (!in_time) {
    strbuf m = {0};
    sb_puts(&m, "subscribers not ready after ");
    sb_number(&m, batch_timeout);
    sb_puts(&m, " ms");
    reply_error(id, m.p);
    sb_free(&m);
    return;
  }
  reply_ok(id, true);
}

static void command_window(double id, const jdoc *d, int32_t root) {
  double start, end;
  if (!number_member(d, root, "startUs", &start) || !number_member(d, root, "endUs", &end)) {
    reply_error(id, "window: startUs and endUs must be numbers");
    return;
  }
  command c = {.kind = CMD_WINDOW, .start_us = start, .end_us = end};
  workers_run(&c);
  /* atMicros: an edge further away than a timer's range (an open window) never comes. */
  double now = now_us();
  win.start_us = start;
  win.end_us = end;
  win.start_armed = (start - now) / 1000 < (double)MAX_TIMER_MS;
  win.end_armed = (end - now) / 1000 < (double)MAX_TIMER_MS;
  window_fire_due();
  reply_ok(id, false);
}

/**
 * Returns when every live subscriber has seen `lastSeq`, when deliveries stop arriving for
 * `quietMs`, or at `timeoutMs`: whichever comes first. The report then says which it was.
 */
static void command_settle(double id, const jdoc *d, int32_t root) {
  double last_seq, quiet_ms, timeout_ms;
  if (!number_member(d, root, "lastSeq", &last_seq) || !number_member(d, root, "quietMs", &quiet_ms) ||
      !number_member(d, root, "timeoutMs", &timeout_ms)) {
    reply_error(id, "settle: lastSeq, quietMs and timeoutMs must be numbers");
    return;
  }
  int64_t deadline = mono_ms() + (int64_t)(timeout_ms < 1e10 ? timeout_ms : 1e10);
  int64_t quiet_since = mono_ms();
  uint64_t last_count = UINT64_MAX;
  while (mono_ms() < deadline) {
    snapshot *s = take_snapshots(true);
    if ((double)min_last_seq(s) >= last_seq) break;
    uint64_t delivered = total_deliveries(s);
    if (delivered != last_count) {
      last_count = delivered;
      quiet_since = mono_ms();
    } else if (mono_ms() - quiet_since >= (int64_t)quiet_ms) {
      break;
    }
    int64_t until = mono_ms() + SETTLE_POLL_MS;
    while (mono_ms() < until) control_poll(until - mono_ms());
  }
  reply_ok(id, true);
}

/** Closes every subscriber (close handshake, destroyed after a grace) and resets the counters. */
static void command_close(double id, const jdoc *d, int32_t root) {
  double timeout_ms;
  if (!number_member(d, root, "timeoutMs", &timeout_ms)) {
    reply_error(id, "close: timeoutMs must be a number");
    return;
  }
  atomic_store(&P.closing, true);
  if (atomic_load(&P.open) > 0) {
    command c = {.kind = CMD_CLOSE_ALL};
    workers_run(&c);
    int64_t deadline = mono_ms() + (int64_t)(timeout_ms < 1e10 ? timeout_ms : 1e10);
    while (atomic_load(&P.open) > 0 && mono_ms() < deadline) control_poll(10);
  }
  command reset = {.kind = CMD_RESET};
  workers_run(&reset);
  forget_targets_and_topics();
  P.next_subscriber = 0;
  pthread_mutex_lock(&P.error_lock);
  free(P.first_error);
  P.first_error = NULL;
  pthread_mutex_unlock(&P.error_lock);
  memset(&win, 0, sizeof win);
  reply_ok(id, false);
}

static jdoc command_doc = {.max_nodes = MAX_COMMAND_JSON_NODES};

static void execute_line(char *line, size_t len) {
  jdoc *d = &command_doc;
  int32_t root = json_parse(d, line, len);
  int32_t id_node = root >= 0 ? json_get(d, root, "id") : -1;
  if (!json_is(d, id_node, J_NUMBER)) {
    /* LoadClient writes `{...body, id}`: a command it could not parse may still show its id. */
    const char *at = len > 0 ? memmem(line, len, "\"id\":", 5) : NULL;
    char message[256];
    snprintf(message, sizeof message, "bad command: %s", root < 0 ? d->error : "no numeric id");
    if (at != NULL) reply_error(strtod(at + 5, NULL), message);
    else fprintf(stderr, "wse-load: %s; dropped\n", message);
    return;
  }
  double id = d->nodes[id_node].num;
  int32_t op = json_get(d, root, "op");
  if (json_str_eq(d, op, "connect", 7)) command_connect(id, d, json_get(d, root, "spec"));
  else if (json_str_eq(d, op, "window", 6)) command_window(id, d, root);
  else if (json_str_eq(d, op, "settle", 6)) command_settle(id, d, root);
  else if (json_str_eq(d, op, "report", 6)) reply_ok(id, true);
  else if (json_str_eq(d, op, "close", 5)) command_close(id, d, root);
  else reply_error(id, "unknown op");
}

/* ------------------------------------------------------------------------------------------ */

static int parse_threads(int argc, char **argv) {
  const char *text = getenv("WSE_LOAD_THREADS");
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) text = argv[++i];
    else if (strncmp(argv[i], "--threads=", 10) == 0) text = argv[i] + 10;
    else {
      fprintf(stderr, "usage: wse-load [--threads N]   (started by wse-bench with a Node IPC channel)\n");
      exit(2);
    }
  }
  if (text == NULL) return 1;
  char *end;
  long n = strtol(text, &end, 10);
  if (*end != '\0' || n < 1 || n > MAX_THREADS) {
    fprintf(stderr, "wse-load: --threads must be 1..%d, got \"%s\"\n", MAX_THREADS, text);
    exit(2);
  }
  return (int)n;
}

int main(int argc, char **argv) {
  P.threads = parse_threads(argc, argv);
  const char *fd_text = getenv("NODE_CHANNEL_FD");
  const char *mode = getenv("NODE_CHANNEL_SERIALIZATION_MODE");
  if (fd_text == NULL) {
    fprintf(stderr, "wse-load: no NODE_CHANNEL_FD; start it through wse-bench (LoadClient, --client native)\n");
    return 2;
  }
  if (mode != NULL && strcmp(mode, "json") != 0) {
    fprintf(stderr, "wse-load: IPC serialization '%s' not supported, only 'json'\n", mode);
    return 2;
  }
  P.ipc_fd = atoi(fd_text);
  int flags = fcntl(P.ipc_fd, F_GETFL);
  if (flags < 0 || fcntl(P.ipc_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    fprintf(stderr, "wse-load: NODE_CHANNEL_FD %s is not an open descriptor\n", fd_text);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  /* Each subscriber needs a descriptor; take what the hard limit allows (README: File descriptors). */
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  pthread_mutex_init(&P.error_lock, NULL);
  P.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (P.wake_fd < 0) die("eventfd: %s", strerror(errno));
  snapshots = xcalloc((size_t)P.threads, sizeof *snapshots);
  P.workers = xcalloc((size_t)P.threads, sizeof *P.workers);
  for (int i = 0; i < P.threads; i++) worker_start(&P.workers[i], i);

  for (;;) {
    char *nl;
    while (ipc.len > 0 && (nl = memchr(ipc.buf, '\n', ipc.len)) != NULL) {
      /* Copied out: waits inside a command read more of the channel into ipc.buf. */
      size_t n = (size_t)(nl - ipc.buf);
      char *line = xstrndup(ipc.buf, n);
      memmove(ipc.buf, nl + 1, ipc.len - n - 1);
      ipc.len -= n + 1;
      ipc.line_start -= n + 1;
      if (n > 0) execute_line(line, n);
      free(line);
    }
    control_poll(-1);
  }
}
