/**
 * Sums of Prometheus series from a `/metrics` endpoint (all label sets of each name added up);
 * only the names the endpoint exposes are in the result. Null when it does not answer.
 */
export async function scrapeCounters(url: string, names: readonly string[]): Promise<Record<string, number> | null> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) return null;
    text = await response.text();
  } catch {
    return null;
  }
  const wanted = new Set(names);
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = /^[A-Za-z_:][\w:]*/.exec(line)?.[0];
    if (name === undefined || !wanted.has(name)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sums[name] = (sums[name] ?? 0) + value;
  }
  return sums;
}
