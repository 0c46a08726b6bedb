/* Every bound on wse-load's buffers, loops and waits, in one place to review. */
#pragma once

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
