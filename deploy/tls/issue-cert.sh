#!/usr/bin/env bash
# Issue one mesh member certificate signed by the mesh CA. The same certificate serves both roles
# (dialer and acceptor, MESH.md §11), so it carries serverAuth and clientAuth. A dialer verifies the
# acceptor against the host part of the address it dials, and members dial the address each one
# advertises (--mesh-advertise, a literal IP): every IP a node advertises must be an IP SAN.
# Usage: deploy/tls/issue-cert.sh <ca-dir> <out-dir> <name> <san>...
#   <san> is IP:10.0.0.5 or DNS:wse-0.wse-headless; DAYS (default 365) sets the validity.
# Writes <out-dir>/mesh.key, <out-dir>/mesh.crt and a copy of <ca-dir>/ca.crt as <out-dir>/ca.crt.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: issue-cert.sh <ca-dir> <out-dir> <name> <san>..." >&2
  exit 2
fi
ca=$1 out=$2 name=$3
shift 3
sans=$(IFS=,; echo "$*")
mkdir -p "$out"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' \
  "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth,clientAuth" \
  "subjectAltName=$sans" > "$tmp/ext.cnf"
openssl ecparam -name prime256v1 -genkey -noout -out "$out/mesh.key"
openssl req -new -sha256 -key "$out/mesh.key" -subj "/CN=$name" -out "$tmp/mesh.csr"
openssl x509 -req -sha256 -in "$tmp/mesh.csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -days "${DAYS:-365}" -extfile "$tmp/ext.cnf" \
  -out "$out/mesh.crt"
cp "$ca/ca.crt" "$out/ca.crt"
chmod 644 "$out/mesh.crt" "$out/ca.crt"
openssl verify -CAfile "$out/ca.crt" "$out/mesh.crt" >/dev/null
echo "issued $out/mesh.crt for $name ($sans)"
