// Container health check: GET /health on the metrics port (200 = ok or degraded, 503 = draining or
// no worker up). The port follows the same defaults as `wse start`: WSE_METRICS_PORT, else WSE_PORT + 1000.
const port = Number(process.env.WSE_METRICS_PORT || Number(process.env.WSE_PORT || 5006) + 1000);
try {
  const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
