/* Replies to the parent's commands: ok, with a PoolReport where asked, or an error. */
#include "reply.h"

#include <string.h>

#include "ipc.h"
#include "report.h"
#include "strbuf.h"

static void reply_send(strbuf *b) {
  sb_put(b, "\n", 1);
  ipc_write(b->p, b->len);
  sb_free(b);
}

void reply_error(double id, const char *message) {
  strbuf b = {0};
  sb_puts(&b, "{\"id\":");
  sb_number(&b, id);
  sb_puts(&b, ",\"ok\":false,\"error\":");
  sb_json_string(&b, message, strlen(message));
  sb_puts(&b, "}");
  reply_send(&b);
}

void reply_ok(double id, bool with_report) {
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
