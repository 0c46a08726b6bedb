/**
 * A table for people (aligned columns) or for docs (Markdown). The first `textColumns` columns
 * are left-aligned labels, the rest right-aligned numbers.
 */
export function formatGrid(columns: readonly string[], rows: readonly string[][], markdown: boolean, textColumns = 1): string {
  if (markdown) {
    const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
    return [line(columns), line(columns.map((_, i) => (i < textColumns ? '---' : '---:'))), ...rows.map(line)].join('\n');
  }
  const widths = columns.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Microseconds as milliseconds, two decimals below 10 ms. */
export function ms(micros: number): string {
  return (micros / 1000).toFixed(micros < 10_000 ? 2 : 1);
}
