import { createServer, type Server, type Socket } from 'node:net';
import { acceptFor } from '../ws/handshake.js';
import { serverFrame } from '../ws/server-frame.js';
import { nowMicros } from '../sys/clock.js';

/**
 * A server that does nothing but write pre-built publication frames as fast as each socket takes
 * them: the load client's ceiling is measured against it. It answers the upgrade, sends a
 * `server_ready`, confirms the first subscribe for `topic`, then streams one block forever.
 */
export interface FrameWriterOptions {
  host: string;
  port: number;
  topic: string;
  /** Frames in the block; sequence and offset count 0…frames-1 and wrap. */
  frames: number;
  /** Target size of one publication's JSON text. */
  messageBytes: number;
  /** Streaming starts once this many sockets have subscribed, so connecting is not slowed by it. */
  startAfter: number;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

const MAX_HEAD_BYTES = 16 * 1024;

export function buildPublicationBlock(topic: string, frames: number, messageBytes: number): Buffer {
  const ts = Math.floor(nowMicros());
  const parts: Buffer[] = [];
  for (let i = 0; i < frames; i++) {
    const publication = (pad: string): string =>
      `{"tp":${JSON.stringify(topic)},"e":"00000001","o":${i},"c":"U","t":"bench","p":{"s":${i},"ts":${ts}${pad}},"v":1}`;
    const padding = messageBytes - publication('').length - ',"pad":""'.length;
    const text = publication(padding < 0 ? '' : `,"pad":"${'x'.repeat(padding)}"`);
    parts.push(serverFrame(0x1, Buffer.from(text)));
  }
  return Buffer.concat(parts);
}

export function startFrameWriterServer(options: FrameWriterOptions): Promise<RunningServer> {
  const block = buildPublicationBlock(options.topic, options.frames, options.messageBytes);
  const ready = serverFrame(0x1, Buffer.from('{"c":"WSE","t":"server_ready","p":{"details":{"features":{"recovery":true}}},"v":1}'));
  const subscribed = serverFrame(
    0x2,
    Buffer.from(JSON.stringify({ c: 'WSE', t: 'subscription_update', p: { action: 'subscribe', success: true, success_topics: [options.topic], failed_topics: [] }, v: 1 })),
  );
  const sockets = new Set<Socket>();
  const waiting: Array<() => void> = [];
  const onSubscribed = (start: () => void): void => {
    waiting.push(start);
    if (waiting.length < options.startAfter) return;
    for (const begin of waiting.splice(0)) begin();
    options.startAfter = 0;
  };
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    serve(socket, ready, subscribed, block, onSubscribed);
  });
  return listen(server, options, sockets);
}

function serve(
  socket: Socket,
  ready: Buffer,
  subscribed: Buffer,
  block: Buffer,
  onSubscribed: (start: () => void) => void,
): void {
  let head = '';
  let phase: 'upgrade' | 'ready' | 'streaming' = 'upgrade';
  const stream = (): void => {
    while (socket.write(block));
  };
  socket.on('data', (chunk: Buffer) => {
    if (phase === 'upgrade') {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_HEAD_BYTES) socket.destroy();
        return;
      }
      const key = /^sec-websocket-key:\s*(\S+)/im.exec(head.slice(0, end))?.[1] ?? '';
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
      );
      socket.write(ready);
      phase = 'ready';
    } else if (phase === 'ready') {
      // The client's hello and subscribe arrive together; the frames themselves are not read.
      phase = 'streaming';
      socket.write(subscribed);
      onSubscribed(() => {
        socket.on('drain', stream);
        stream();
      });
    }
  });
}

function listen(server: Server, options: FrameWriterOptions, sockets: Set<Socket>): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
