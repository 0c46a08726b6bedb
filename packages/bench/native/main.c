/*
 * wse-load: the native subscriber load process of wse-bench (packages/bench/README.md).
 *
 * LoadClient (src/load/load-client.ts) starts it in place of load-process.js; it answers the same
 * commands (src/load/ipc.ts) with the same replies, counter for counter, as the Node load process:
 *
 *   src/load/load-process.ts      -> main.c, ipc.c (the channel), commands.c, reply.c
 *   src/load/subscriber-pool.ts   -> control thread: commands.c (batches, settle, close), control.c,
 *                                    report.c, window.c; worker.c (the subscribers' threads)
 *   src/load/subscriber.ts        -> session.c (server_ready, subscription_update, deliveries)
 *   src/ws/raw-websocket.ts       -> subscriber.c, subscriber-send.c (socket, close handshake, pings)
 *   src/ws/frame-decoder.ts       -> frame-decoder.c (the same state machine, same error codes)
 *   src/ws/handshake.ts           -> target.c (request head), upgrade-response.c (Sec-WebSocket-Accept)
 *   src/load/publication-scanner.ts, sequence-tracker.ts, delivery-stats.ts -> the same names here;
 *   latency-histogram.ts -> histogram.c (same 1,664 buckets, so snapshots merge); sys/clock.ts -> clocks.c.
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
 * Build: cc -O2 -pthread -o dist/native/wse-load with every .c file of native/ (Linux, C11, libc only).
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "bounds.h"
#include "commands.h"
#include "control.h"
#include "die.h"
#include "ipc.h"
#include "process-state.h"
#include "report.h"
#include "worker.h"

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
  report_init();
  P.workers = xcalloc((size_t)P.threads, sizeof *P.workers);
  for (int i = 0; i < P.threads; i++) worker_start(&P.workers[i], i);

  for (;;) {
    size_t n;
    char *line;
    while ((line = ipc_take_line(&n)) != NULL) {
      if (n > 0) execute_line(line, n);
      free(line);
    }
    control_poll(-1);
  }
}
