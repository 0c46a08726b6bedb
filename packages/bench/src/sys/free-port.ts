import { createServer, type Server } from 'node:net';

const HOST = '127.0.0.1';
const RANGE_ATTEMPTS = 50;

/** A port that was free on 127.0.0.1 a moment ago (the kernel's pick for port 0). */
export async function freePort(): Promise<number> {
  const server = await listen(0);
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await close(server);
  return port;
}

/**
 * The first of `count` consecutive ports that were all free a moment ago: a WSE node's worker i
 * listens on mesh port base+i.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < RANGE_ATTEMPTS; attempt++) {
    const base = await freePort();
    if (base + count > 65536) continue;
    const held: Server[] = [];
    try {
      for (let i = 0; i < count; i++) held.push(await listen(base + i));
      return base;
    } catch {
      // one of them is taken: try another base
    } finally {
      await Promise.all(held.map(close));
    }
  }
  throw new Error(`no ${count} consecutive free ports found on ${HOST}`);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
