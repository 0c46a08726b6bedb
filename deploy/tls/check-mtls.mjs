// Proves that certificates from make-ca.sh + issue-cert.sh pass the checks a mesh link makes
// (MESH.md §11): both sides present a certificate chaining to the CA, and the dialer verifies the
// acceptor against the IP it dialed. Also proves a certificate without that IP SAN is refused.
// Usage: node check-mtls.mjs <dir with ca.crt, mesh.crt, mesh.key for IP:127.0.0.1> <dir without it>
import { readFileSync } from 'node:fs';
import tls from 'node:tls';

const load = (dir) => ({
  ca: readFileSync(`${dir}/ca.crt`), cert: readFileSync(`${dir}/mesh.crt`), key: readFileSync(`${dir}/mesh.key`),
});

function handshake(acceptor, dialer) {
  return new Promise((resolve) => {
    const server = tls.createServer({ ...acceptor, requestCert: true, rejectUnauthorized: true }, (s) => s.end());
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      const socket = tls.connect({ ...dialer, host: '127.0.0.1', port, rejectUnauthorized: true });
      const done = (err) => { socket.destroy(); server.close(); resolve(err ?? null); };
      socket.setTimeout(5000, () => done(new Error('handshake timeout')));
      socket.once('secureConnect', () => done(socket.getPeerCertificate().subject ? null : new Error('no peer cert')));
      socket.once('error', done);
    });
  });
}

const [good, wrongSan] = process.argv.slice(2).map(load);
const ok = await handshake(good, good);
const refused = await handshake(wrongSan, good);
if (ok) console.error(`mTLS handshake with an IP SAN failed: ${ok.message}`);
if (!refused) console.error('an acceptor without the dialed IP in its SANs was accepted');
if (ok || !refused) process.exit(1);
console.log(`mTLS: 127.0.0.1 handshake ok; missing IP SAN refused (${refused.code ?? refused.message})`);
