import type { Argv, CommandModule } from 'yargs';
import type { ClusterMember, ClusterView } from '../supervisor/cluster-view.js';

interface StatusArgs {
  metricsUrl: string;
  json: boolean;
}

/** `wse status`: the node's workers, mesh members per node and main counters, for a person. */
export const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status',
  describe: "Show a running node's workers, mesh members and counters",
  builder: (yargs: Argv) =>
    yargs
      .option('metrics-url', { type: 'string', default: 'http://127.0.0.1:6006', describe: "The node's metrics port URL" })
      .option('json', { type: 'boolean', default: false, describe: 'Print the raw /health JSON' }) as unknown as Argv<StatusArgs>,
  handler: async (argv) => {
    const base = argv.metricsUrl.replace(/\/+$/, '');
    let health: Record<string, any>;
    let metrics: string;
    try {
      [health, metrics] = await Promise.all([
        fetch(`${base}/health`).then((r) => r.json() as Promise<Record<string, any>>),
        fetch(`${base}/metrics`).then((r) => r.text()),
      ]);
    } catch (error) {
      process.stderr.write(`wse status: cannot reach ${base} (${error instanceof Error ? error.message : String(error)})\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(argv.json ? `${JSON.stringify(health, null, 2)}\n` : renderStatus(health, metrics));
  },
};

export function renderStatus(health: Record<string, any>, metrics: string): string {
  const lines = [
    `node ${health['node_id']}: ${health['status']}, up ${health['uptime_s']} s, ${health['workers_up']}/${health['workers_configured']} workers` +
      (health['crash_looping']?.length ? `, crash-looping: ${health['crash_looping'].join(',')}` : ''),
    '',
    'workers:',
  ];
  for (const worker of health['workers'] ?? []) {
    lines.push(
      `  #${worker.index}  pid ${worker.pid}  connections ${worker.connections}  subscriptions ${worker.subscriptions}  ` +
        `recovery ${worker.recovery.topics} topics / ${formatBytes(worker.recovery.bytes)}  backlog ${formatBytes(worker.queues.fanout_backlog_bytes)}` +
        (worker.mesh ? `  topics owned ${worker.mesh.owned_topics}` : '') +
        (worker.queues.paced ? '  PACED' : '') +
        (worker.draining ? '  DRAINING' : ''),
    );
  }
  lines.push('', ...meshLines(health['node_id'], health['cluster']));
  lines.push(
    '',
    'counters:',
    `  connections ${sum(metrics, 'wse_connections')}  messages sent ${sum(metrics, 'wse_messages_sent_total')}  received ${sum(metrics, 'wse_messages_received_total')}`,
    `  publications ${sum(metrics, 'wse_publications_total')}  rejected ${sum(metrics, 'wse_publish_rejected_total')}  slow consumers ${sum(metrics, 'wse_slow_consumer_drops_total')}  rate limited ${sum(metrics, 'wse_rate_limited_total')}`,
    `  worker restarts ${sum(metrics, 'wse_worker_restarts_total')}`,
    '',
  );
  return lines.join('\n');
}

/** The mesh per node: its members' addresses, and links missing from this node's workers. */
function meshLines(self: string, cluster: ClusterView | undefined): string[] {
  if (cluster === undefined || cluster.members.length === 0) return ['mesh: none (a lone worker)'];
  const byNode = new Map<string, ClusterMember[]>();
  for (const member of cluster.members) byNode.set(member.node_id, [...(byNode.get(member.node_id) ?? []), member]);
  const lines = [`mesh: ${cluster.members.length} members on ${byNode.size} node${byNode.size === 1 ? '' : 's'}, ${cluster.full_mesh ? 'every link up' : 'LINKS MISSING'}`];
  for (const [node, members] of byNode) {
    const links = members.reduce((n, m) => n + m.links, 0);
    const expected = members.reduce((n, m) => n + m.expected_links, 0);
    const addresses = members.map((m) => m.address + (m.state === 'up' ? '' : ` (${m.state})`)).join(', ');
    lines.push(`  node ${node}${node === self ? ' (this node)' : ''}: ${members.length} members, links ${links}/${expected}: ${addresses}`);
  }
  if (cluster.unreached.length > 0) lines.push(`  not reached: ${cluster.unreached.map((u) => `${u.address} (${u.state})`).join(', ')}`);
  return lines;
}

/** Sums every series of a metric in Prometheus text (0 when absent). */
function sum(text: string, name: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return total;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
