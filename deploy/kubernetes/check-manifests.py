#!/usr/bin/env python3
"""Offline consistency checks of the WSE Kubernetes manifests (no cluster, no schema download).

Catches what a schema check does not: a worker count that no longer matches the CPU request or the
mesh ports, seeds that name pods which do not exist, a Service whose selector or target port misses
the pods, a grace period shorter than the drain. Usage: check-manifests.py <yaml file>...
"""
import sys

import yaml

loaded = [d for path in sys.argv[1:] for d in yaml.safe_load_all(open(path, encoding="utf-8")) if d]
docs = [d for d in loaded if d.get("kind") not in ("Kustomization", "Component")]
errors = []


def check(ok, msg):
    if not ok:
        errors.append(msg)


def one(kind, name=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    check(len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0] if found else {}


for d in docs:
    check(all(k in d for k in ("apiVersion", "kind", "metadata")), f"incomplete document: {d}")

sts = one("StatefulSet")
pod = sts["spec"]["template"]
labels = pod["metadata"]["labels"]
spec = pod["spec"]
container = next(c for c in spec["containers"] if c["name"] == "wse")
port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
config = one("ConfigMap", "wse-config").get("data", {})

check(sts["spec"]["selector"]["matchLabels"].items() <= labels.items(), "StatefulSet selector misses its pods")
check(spec.get("enableServiceLinks") is False, "enableServiceLinks must be false (a Service `wse` injects WSE_PORT)")

for svc in (d for d in docs if d["kind"] == "Service"):
    name = svc["metadata"]["name"]
    check(svc["spec"]["selector"].items() <= labels.items(), f"Service {name} selects no pod")
    for p in svc["spec"]["ports"]:
        check(p["targetPort"] in port_names, f"Service {name}: targetPort {p['targetPort']} is not a container port")
headless = one("Service", sts["spec"]["serviceName"])
check(headless.get("spec", {}).get("clusterIP") == "None", "serviceName must be a headless Service")
check(headless.get("spec", {}).get("publishNotReadyAddresses") is True, "headless Service must publish not-ready pods")
pdb = one("PodDisruptionBudget")
check(pdb["spec"]["selector"]["matchLabels"].items() <= labels.items(), "PodDisruptionBudget selects no pod")

workers = int(config["WSE_WORKERS"])
mesh_port = int(config["WSE_MESH_PORT"])
check(str(container["resources"]["requests"]["cpu"]) == str(workers), "cpu request must equal WSE_WORKERS")
for i in range(workers):
    check(port_names.get(f"mesh-{i}") == mesh_port + i, f"container port mesh-{i} must be {mesh_port + i}")
check(port_names.get("client") == int(config["WSE_PORT"]), "container port client must be WSE_PORT")
check(port_names.get("metrics") == int(config["WSE_METRICS_PORT"]), "container port metrics must be WSE_METRICS_PORT")
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    get = container[probe]["httpGet"]
    check(get["path"] == "/health" and get["port"] == "metrics", f"{probe} must GET /health on the metrics port")

name, replicas, svc_name = sts["metadata"]["name"], sts["spec"]["replicas"], headless["metadata"]["name"]
expected_seeds = [f"{name}-{i}.{svc_name}:{mesh_port}" for i in range(replicas)]
check(config["WSE_SEEDS"].split(",") == expected_seeds, f"WSE_SEEDS must be {','.join(expected_seeds)}")
env = {e["name"]: e for e in container.get("env", [])}
check(env.get("WSE_MESH_ADVERTISE", {}).get("value") == f"$(POD_IP):{mesh_port}", "WSE_MESH_ADVERTISE must be $(POD_IP):WSE_MESH_PORT")
check(list(env).index("POD_IP") < list(env).index("WSE_MESH_ADVERTISE"), "POD_IP must precede WSE_MESH_ADVERTISE")

pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
drain_s = 10  # --drain-timeout default
check(spec["terminationGracePeriodSeconds"] >= int(pre_stop[-1]) + drain_s + 5, "grace period shorter than preStop + drain + 5 s")

refs = [r["configMapRef"]["name"] for r in container["envFrom"] if "configMapRef" in r]
check(all(any(d["kind"] == "ConfigMap" and d["metadata"]["name"] == r for d in docs) for r in refs), "envFrom names a missing ConfigMap")

for e in errors:
    print(f"check-manifests: {e}", file=sys.stderr)
print(f"check-manifests: {len(docs)} documents, {len(errors)} problems")
sys.exit(1 if errors else 0)
