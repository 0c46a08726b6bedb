#!/usr/bin/env bash
# Create the mesh CA: an ECDSA P-256 key and a self-signed certificate (MESH.md §11 uses P-256 PEM).
# Usage: deploy/tls/make-ca.sh <dir> [days]      -> <dir>/ca.key (keep offline), <dir>/ca.crt
set -euo pipefail
dir=${1:?usage: make-ca.sh <dir> [days]}
days=${2:-3650}
mkdir -p "$dir"
umask 077
openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key"
openssl req -x509 -new -sha256 -key "$dir/ca.key" -days "$days" -subj "/CN=WSE mesh CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$dir/ca.crt"
chmod 644 "$dir/ca.crt"
echo "CA written to $dir/ca.crt (key $dir/ca.key)"
