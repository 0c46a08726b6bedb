#!/usr/bin/env bash
# Offline checks of everything in deploy/ (CI runs this; a few seconds, no network, no cluster).
# Needs: promtool (Debian `prometheus`), node, python3 with PyYAML (Debian `python3-yaml`, pulled in
# by `yamllint`). Uses when present, and says SKIP when not: yamllint, kubectl (kustomize rendering),
# docker compose / docker-compose, systemd-analyze, openssl. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0 passed=0 skipped=0

run() { # run <name> <command...>: quiet on success, prints the output on failure
  local name=$1; shift
  if "$@" >"$tmp/out" 2>&1; then echo "ok    $name"; passed=$((passed + 1))
  else echo "FAIL  $name"; sed 's/^/      /' "$tmp/out"; failed=$((failed + 1)); fi
}
silent() { # silent <command...>: fails when the command fails or prints anything (systemd-analyze warns with rc 0)
  local out; out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
  [ -z "$out" ] || { printf '%s\n' "$out"; return 1; }
}
skip() { echo "SKIP  $1 ($2)"; skipped=$((skipped + 1)); }
need() { command -v "$1" >/dev/null || { echo "FAIL  $1 not installed ($2)"; exit 1; }; }

need promtool "apt-get install prometheus"
need node "Node.js 20"
py=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import yaml' 2>/dev/null; then py=$candidate; break; fi
done
[ -n "$py" ] || { echo "FAIL  no python3 with PyYAML (apt-get install yamllint, or python3-yaml)"; exit 1; }

# --- Prometheus ---------------------------------------------------------------------------------
run "promtool check config prometheus/prometheus.yml" promtool check config prometheus/prometheus.yml
run "promtool check config prometheus/prometheus-kubernetes.yml" promtool check config prometheus/prometheus-kubernetes.yml
run "promtool check rules prometheus/alerts.yml" promtool check rules prometheus/alerts.yml
run "promtool test rules prometheus/alerts.test.yml" promtool test rules prometheus/alerts.test.yml

# --- Grafana ------------------------------------------------------------------------------------
run "dashboard JSON and layout" node grafana/check-dashboard.mjs grafana/wse-dashboard.json "$tmp/dashboard-rules.yml"
run "dashboard PromQL (promtool)" promtool check rules "$tmp/dashboard-rules.yml"
run "compose targets JSON" node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' compose/targets.json

# --- YAML everywhere ----------------------------------------------------------------------------
mapfile -t yamls < <(find . -name '*.yaml' -o -name '*.yml' | sort)
run "YAML parses (${#yamls[@]} files)" "$py" -c '
import sys, yaml
for path in sys.argv[1:]:
    list(yaml.safe_load_all(open(path, encoding="utf-8")))' "${yamls[@]}"
if command -v yamllint >/dev/null; then run "yamllint" yamllint -s -c .yamllint.yaml "${yamls[@]}"
else skip "yamllint" "apt-get install yamllint"; fi

# --- Kubernetes ---------------------------------------------------------------------------------
run "kubernetes manifests consistent (base)" "$py" kubernetes/check-manifests.py kubernetes/base/*.yaml
if command -v kubectl >/dev/null; then
  for overlay in base mtls; do
    run "kubectl kustomize kubernetes/$overlay" sh -c "kubectl kustomize kubernetes/$overlay > '$tmp/$overlay.yaml'"
    run "kubernetes manifests consistent (rendered $overlay)" "$py" kubernetes/check-manifests.py "$tmp/$overlay.yaml"
  done
else skip "kubectl kustomize" "kubectl not installed"; fi

# --- Compose ------------------------------------------------------------------------------------
export WSE_CLUSTER_SECRET=validate WSE_JWT_SECRET=validate WSE_API_KEY=validate GRAFANA_ADMIN_PASSWORD=validate
if docker compose version >/dev/null 2>&1; then run "docker compose config" docker compose -f compose.yaml config -q
elif command -v docker-compose >/dev/null; then run "docker-compose config" docker-compose -f compose.yaml config -q
else skip "compose config" "no docker compose plugin, no docker-compose"; fi

# --- Image --------------------------------------------------------------------------------------
run "healthcheck.mjs syntax" node --check docker/healthcheck.mjs
run "Dockerfile COPY sources exist and are not dockerignored" bash -c '
  cd .. && status=0
  for src in $(awk "/^COPY/ && !/--from/ { for (i = 2; i < NF; i++) if (\$i !~ /^--/) print \$i }" deploy/docker/Dockerfile); do
    [ -e "$src" ] || { echo "missing: $src"; status=1; }
    case "$src" in deploy/*) grep -qx "!$src" .dockerignore || { echo "excluded by .dockerignore: $src"; status=1; };; esac
  done
  exit $status'

# --- systemd ------------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then run "systemd-analyze verify wse.service" silent systemd-analyze verify --man=no systemd/wse.service
else skip "systemd-analyze verify" "systemd not installed"; fi
if [ -d /proc/sys/net/core ]; then run "sysctl keys exist" sysctl --dry-run -p systemd/90-wse.conf
else skip "sysctl keys" "no /proc/sys"; fi

# --- TLS scripts --------------------------------------------------------------------------------
run "shell scripts parse" bash -n tls/make-ca.sh tls/issue-cert.sh
if command -v openssl >/dev/null; then
  run "make-ca.sh + issue-cert.sh + mTLS handshake on 127.0.0.1" bash -c "
    bash tls/make-ca.sh '$tmp/ca' && bash tls/issue-cert.sh '$tmp/ca' '$tmp/good' n1 IP:127.0.0.1 \
      && bash tls/issue-cert.sh '$tmp/ca' '$tmp/other' n2 IP:192.0.2.1 \
      && node tls/check-mtls.mjs '$tmp/good' '$tmp/other'"
else skip "TLS scripts" "openssl not installed"; fi

echo "deploy: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
