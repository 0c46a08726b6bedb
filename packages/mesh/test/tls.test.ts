import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TlsMaterial } from '../src/index.js';
import { connectedPeers, RawPeer, startMember, stopAll, waitFor, waitLinked } from './harness.js';

let dir = '';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA and one ECDSA P-256 leaf with an IP SAN for 127.0.0.1 (MESH.md §11). */
function makeCa(name: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}-ca.key`]);
  openssl(['req', '-x509', '-new', '-key', `${name}-ca.key`, '-subj', `/CN=${name}-ca`, '-days', '2', '-out', `${name}-ca.pem`]);
}

function makeLeaf(ca: string, leaf: string): TlsMaterial {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${leaf}.key`]);
  openssl(['req', '-new', '-key', `${leaf}.key`, '-subj', `/CN=${leaf}`, '-out', `${leaf}.csr`]);
  openssl([
    'x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}-ca.pem`, '-CAkey', `${ca}-ca.key`, '-CAcreateserial',
    '-days', '2', '-out', `${leaf}.pem`, '-extfile', 'san.cnf',
  ]);
  const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
  return { ca: read(`${ca}-ca.pem`), cert: read(`${leaf}.pem`), key: read(`${leaf}.key`) };
}

let good1: TlsMaterial;
let good2: TlsMaterial;
let rogue: TlsMaterial;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wse-mesh-tls-'));
  execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n" > san.cnf'], { cwd: dir });
  makeCa('cluster');
  makeCa('rogue');
  good1 = makeLeaf('cluster', 'm1');
  good2 = makeLeaf('cluster', 'm2');
  const r = makeLeaf('rogue', 'r1');
  // The rogue trusts the cluster CA but its own certificate is signed by another CA.
  rogue = { ...r, ca: good1.ca };
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('mTLS: members with certificates from the cluster CA link and exchange messages', async () => {
  const a = await startMember({ tls: good1 });
  const b = await startMember({ tls: good2, peers: [a.address] });
  try {
    await waitLinked([a, b]);
    let got = '';
    b.onDeliver = (_t, s) => (got = s.toString());
    b.addInterest('secure');
    await new Promise((r) => setTimeout(r, 50));
    await a.publish('secure', Buffer.from('{"c":"tls"}'));
    await waitFor(() => got.includes('"c":"tls"'), 3_000, 'delivery over TLS');
  } finally {
    await stopAll([a, b]);
  }
});

test('mTLS: a certificate from another CA is refused on both roles; plaintext is refused', async () => {
  const a = await startMember({ tls: good1 });
  const bad = await startMember({ tls: rogue, peers: [a.address] });
  const good = await startMember({ tls: good2, peers: [a.address] });
  try {
    await waitLinked([a, good]);
    await waitFor(() => a.stats().tlsFailures > 0, 3_000, 'TLS failure counted');
    assert.ok(!connectedPeers(a).includes(bad.instanceId));
    assert.equal(bad.stats().peers, 0);
    const plain = await RawPeer.connect(a.address);
    plain.write(Buffer.from('00000017040000000f000000575345000100030061626300', 'hex'));
    await plain.closedPromise();
    assert.equal(plain.frames.length, 0);
  } finally {
    await stopAll([a, bad, good]);
  }
});
