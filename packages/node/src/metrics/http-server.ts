import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'draining' | 'down';
  [key: string]: unknown;
}

export interface MetricsEndpoints {
  metrics: () => Promise<{ contentType: string; body: string }>;
  health: () => Promise<HealthReport>;
}

/** `/metrics` (Prometheus text) and `/health` (JSON; 503 while draining or with no worker up). */
export function startMetricsServer(host: string, port: number, endpoints: MetricsEndpoints): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer =
      path === '/metrics'
        ? endpoints.metrics().then(({ contentType, body }) => ({ status: 200, contentType, body }))
        : path === '/health'
          ? endpoints.health().then((report) => ({ status: report.status === 'ok' || report.status === 'degraded' ? 200 : 503, contentType: 'application/json', body: JSON.stringify(report) }))
          : Promise.resolve({ status: 404, contentType: 'text/plain', body: 'not found\n' });
    answer
      .catch((error: unknown) => ({ status: 500, contentType: 'text/plain', body: `error: ${String(error)}\n` }))
      .then(({ status, contentType, body }) => {
        res.writeHead(status, { 'content-type': contentType });
        res.end(body);
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export async function registryEndpoint(registry: Registry): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
