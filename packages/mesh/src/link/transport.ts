import net from 'node:net';
import tls from 'node:tls';
import { MeshError } from '../errors.js';
import { parseAddress } from './address.js';

export interface TlsMaterial {
  ca: string;
  cert: string;
  key: string;
}

/** MESH.md §11: TLS 1.3 preferred, 1.2 allowed; both sides require a certificate from the CA. */
function tlsOptions(m: TlsMaterial): tls.CommonConnectionOptions & tls.SecureContextOptions {
  return { ca: m.ca, cert: m.cert, key: m.key, minVersion: 'TLSv1.2', rejectUnauthorized: true };
}

/**
 * Opens a link socket: TCP connect (then TLS) within `timeoutMs` each (§1), TCP_NODELAY and,
 * on the dialer, keepalive after 10 s idle. Resolves once the socket is ready for HELLO.
 */
export function dial(address: string, material: TlsMaterial | null, timeoutMs: number): Promise<net.Socket> {
  const hp = parseAddress(address);
  if (hp === null) return Promise.reject(new MeshError('WSE_ERR_MESH_CONNECT', `bad address ${address}`));
  return new Promise((resolve, reject) => {
    const socket: net.Socket =
      material === null
        ? net.connect({ host: hp.host, port: hp.port })
        : tls.connect({
            ...tlsOptions(material),
            host: hp.host,
            port: hp.port,
            ...(net.isIP(hp.host) === 0 ? { servername: hp.host } : {}),
          });
    const budget = material === null ? timeoutMs : timeoutMs * 2;
    const timer = setTimeout(() => fail(new MeshError('WSE_ERR_MESH_TIMEOUT', `connect to ${address} timed out`)), budget);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err instanceof MeshError ? err : new MeshError('WSE_ERR_MESH_CONNECT', `connect to ${address}: ${err.message}`, undefined, err));
    };
    socket.once('error', fail);
    socket.once(material === null ? 'connect' : 'secureConnect', () => {
      clearTimeout(timer);
      socket.removeListener('error', fail);
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      resolve(socket);
    });
  });
}

export type AcceptHandler = (socket: net.Socket) => void;

/** A mesh listener. `exclusive: true` because node:cluster workers must bind directly (DESIGN.md). */
export function listen(
  host: string,
  port: number,
  material: TlsMaterial | null,
  handshakeTimeoutMs: number,
  onSocket: AcceptHandler,
  onTlsError: (err: Error) => void,
): Promise<net.Server> {
  const server =
    material === null
      ? net.createServer(onSocket)
      : tls.createServer({ ...tlsOptions(material), requestCert: true, handshakeTimeout: handshakeTimeoutMs }, onSocket);
  if (material !== null) server.on('tlsClientError', onTlsError);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}
