import { BenchError } from '../errors.js';

const POLL_MS = 100;

interface HealthWorker {
  mesh?: { members?: Array<{ instance_id?: string; connected?: boolean }> } | null;
}

interface Health {
  workers_configured?: number;
  workers_up?: number;
  workers?: HealthWorker[];
}

/**
 * Waits until the cluster behind these metrics endpoints has converged: every node has all its
 * workers up and every worker sees every other worker of every node connected (`/health`
 * `workers[].mesh.members`). Throws WSE_BENCH_ERR_TIMEOUT with the last view when it does not.
 */
export async function waitForConvergence(metricsUrls: string[], timeoutMs: number): Promise<void> {
  const healthUrls = metricsUrls.map((url) => url.replace(/\/metrics$/, '/health'));
  const deadline = Date.now() + timeoutMs;
  let view = 'no answer';
  while (Date.now() < deadline) {
    const reports = await Promise.all(healthUrls.map(fetchHealth));
    const verdict = converged(reports);
    if (verdict === null) return;
    view = verdict;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new BenchError('WSE_BENCH_ERR_TIMEOUT', `cluster not converged after ${timeoutMs} ms: ${view}`);
}

/** null when converged, else what is missing. */
export function converged(reports: Array<Health | null>): string | null {
  if (reports.some((r) => r === null)) return 'a node does not answer /health';
  const total = reports.reduce((sum, r) => sum + (r!.workers_configured ?? 0), 0);
  for (const [n, report] of reports.entries()) {
    const workers = report!.workers ?? [];
    if (report!.workers_up !== report!.workers_configured || workers.length !== report!.workers_configured) {
      return `node ${n}: ${workers.length}/${report!.workers_configured} workers up`;
    }
    for (const [w, worker] of workers.entries()) {
      const connected = new Set((worker.mesh?.members ?? []).filter((m) => m.connected === true).map((m) => m.instance_id));
      if (connected.size !== total - 1) return `node ${n} worker ${w} sees ${connected.size}/${total - 1} members connected`;
    }
  }
  return null;
}

async function fetchHealth(url: string): Promise<Health | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return (await response.json()) as Health;
  } catch {
    return null;
  }
}
