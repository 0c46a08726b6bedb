import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { MeshMember } from '@wse/mesh';
import type { Registry } from 'prom-client';
import { registerMeshMetrics } from '../src/metrics/mesh-metrics.js';
import { WorkerMetrics } from '../src/metrics/worker-metrics.js';
import { SupervisorMetrics } from '../src/supervisor/supervisor-metrics.js';

const DEPLOY = new URL('../../../../deploy/', import.meta.url);

/** Labels a query may use that no metric of ours declares: Prometheus adds job and instance. */
const SCRAPE_LABELS = ['job', 'instance'];

/** Every series name the server exports, with the labels it carries (default labels included). */
function exportedCatalog(): Map<string, Set<string>> {
  const catalog = new Map<string, Set<string>>();
  const add = (registry: Registry, defaults: string[]): void => {
    for (const metric of registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string; labelNames?: string[] }>) {
      const labels = [...defaults, ...(metric.labelNames ?? [])];
      catalog.set(metric.name, new Set(labels));
      if (metric.type !== 'histogram') continue;
      catalog.set(`${metric.name}_bucket`, new Set([...labels, 'le']));
      catalog.set(`${metric.name}_sum`, new Set(labels));
      catalog.set(`${metric.name}_count`, new Set(labels));
    }
  };
  const worker = new WorkerMetrics({ node: 'n', worker: '0' }, () => ({ topics: 0, bytes: 0, budget: 0, evictions: {} }));
  registerMeshMetrics(worker.registry, new MeshMember({ nodeId: 'n', workerIndex: 0, workerCount: 1, listen: { host: '127.0.0.1', port: 0 }, recovery: true }));
  add(worker.registry, ['node', 'worker']);
  add(new SupervisorMetrics('n', []).registry, ['node']);
  return catalog;
}

interface Query {
  where: string;
  /** PromQL, and the text around it that names labels ($labels.x in annotations, {{x}} in legends). */
  expr: string;
  labelRefs: string[];
}

/** alerts.yml split per rule: its expression (one line or a `>-` block) and its annotations. */
function alertQueries(): Query[] {
  const text = readFileSync(new URL('prometheus/alerts.yml', DEPLOY), 'utf8');
  return text.split(/\n\s*- alert: /).slice(1).map((rule) => {
    const name = rule.split('\n', 1)[0]!.trim();
    const exprBlock = /\n\s*expr: (>-\n(?:\s{10,}.*\n)+|.*\n)/.exec(rule);
    assert.ok(exprBlock, `alerts.yml ${name}: no expr`);
    return { where: `alerts.yml ${name}`, expr: exprBlock[1]!.replace(/^>-/, ''), labelRefs: [...rule.matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!) };
  });
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readFileSync(new URL('grafana/wse-dashboard.json', DEPLOY), 'utf8'));
  return dashboard.panels.flatMap((panel: any) =>
    (panel.targets ?? []).map((target: any) => ({
      where: `wse-dashboard.json panel "${panel.title}"`,
      expr: target.expr as string,
      labelRefs: [...String(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
    })),
  );
}

/** Labels named in `by (…)`, `on (…)`, `without (…)`, `ignoring (…)` and `{label=…}` matchers. */
function labelsIn(expr: string): string[] {
  const grouped = [...expr.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(','));
  const matched = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]!));
  return [...grouped, ...matched].map((label) => label.trim()).filter((label) => label !== '');
}

describe('deploy/ queries against what the server exports', () => {
  const catalog = exportedCatalog();
  const queries = [...alertQueries(), ...dashboardQueries()];

  test('the alerts and the dashboard were read (guards the parsing below)', () => {
    assert.ok(alertQueries().length >= 10, `alerts: ${alertQueries().length}`);
    assert.ok(dashboardQueries().length >= 40, `dashboard queries: ${dashboardQueries().length}`);
  });

  test('every metric an alert or a dashboard panel queries is exported', () => {
    const missing = queries.flatMap(({ where, expr }) =>
      [...expr.matchAll(/\b((?:wse|process|nodejs)_\w+)/g)].map((m) => m[1]!).filter((name) => !catalog.has(name)).map((name) => `${where}: ${name}`),
    );
    assert.deepEqual(missing, []);
  });

  test('every label an alert or a dashboard panel uses is one its metrics carry', () => {
    const wrong: string[] = [];
    for (const { where, expr, labelRefs } of queries) {
      const metrics = [...expr.matchAll(/\b((?:wse|process|nodejs)_\w+)/g)].map((m) => m[1]!).filter((name) => catalog.has(name));
      if (metrics.length === 0) continue;
      const carried = new Set([...SCRAPE_LABELS, ...metrics.flatMap((name) => [...catalog.get(name)!])]);
      for (const label of new Set([...labelsIn(expr), ...labelRefs])) {
        if (!carried.has(label)) wrong.push(`${where}: label ${label} is not on ${metrics.join(', ')} (they carry ${[...carried].join(', ')})`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
