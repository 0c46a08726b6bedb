// Checks deploy/grafana/wse-dashboard.json without Grafana: valid JSON, the fields Grafana's importer
// needs, a sane layout, and every query expression written out as a recording rule so that
// `promtool check rules` parses the PromQL. Usage: node check-dashboard.mjs <dashboard.json> <rules-out.yml>
import { readFileSync, writeFileSync } from 'node:fs';

const [file, rulesOut] = process.argv.slice(2);
const dash = JSON.parse(readFileSync(file, 'utf8'));
const errors = [];
const fail = (msg) => errors.push(msg);

if (typeof dash.uid !== 'string' || dash.uid.length === 0 || dash.uid.length > 40) fail('uid: 1..40 chars');
if (typeof dash.title !== 'string' || dash.title === '') fail('title missing');
// Grafana 10.x/11.x dashboards carry schemaVersion 36..41.
if (!Number.isInteger(dash.schemaVersion) || dash.schemaVersion < 36) fail(`schemaVersion ${dash.schemaVersion} < 36`);
const vars = new Set((dash.templating?.list ?? []).map((v) => v.name));
for (const need of ['datasource', 'node', 'worker']) if (!vars.has(need)) fail(`template variable ${need} missing`);

const ids = new Set();
const exprs = [];
for (const p of dash.panels ?? []) {
  if (ids.has(p.id)) fail(`duplicate panel id ${p.id}`);
  ids.add(p.id);
  const g = p.gridPos;
  if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) fail(`panel ${p.id} "${p.title}": bad gridPos`);
  if (p.type === 'row') continue;
  if (p.datasource?.uid !== '${datasource}') fail(`panel ${p.id} "${p.title}": datasource must be \${datasource}`);
  if (!p.targets?.length) fail(`panel ${p.id} "${p.title}": no targets`);
  for (const t of p.targets ?? []) exprs.push({ panel: `${p.id} ${p.title}`, expr: t.expr });
}

// Grafana's variables become values PromQL accepts; the rules file is only parsed, never evaluated.
const plain = (e) => e.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h').replace(/\$(node|worker)\b/g, '.*');
const rules = exprs.map(({ expr }, i) => `      - record: dashboard:expr_${i}\n        expr: ${JSON.stringify(plain(expr))}`);
writeFileSync(rulesOut, `groups:\n  - name: dashboard-expressions\n    rules:\n${rules.join('\n')}\n`);

if (errors.length) {
  for (const e of errors) console.error(`${file}: ${e}`);
  process.exit(1);
}
console.log(`${file}: ${dash.panels.length} panels, ${exprs.length} queries written to ${rulesOut}`);
