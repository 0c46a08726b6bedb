/**
 * Sums of Prometheus counters from a `/metrics` endpoint (all label sets of each name added up).
 * Used for the server's own view of a run: slow-consumer drops and messages sent.
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
  const sums: Record<string, number> = Object.fromEntries(names.map((name) => [name, 0]));
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const name = /^[A-Za-z_:][\w:]*/.exec(line)?.[0];
    if (name === undefined || !(name in sums)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sums[name]! += value;
  }
  return sums;
}
