import { BenchError } from '../errors.js';

/** `--split 50/50` (or `1/3`, `70/30/…`): one positive weight per node. */
export function parseSplit(text: string, nodes: number): number[] {
  if (text === '') return Array.from({ length: nodes }, () => 1);
  const weights = text.split('/').map(Number);
  if (weights.length !== nodes || weights.some((w) => !Number.isFinite(w) || w < 0) || weights.every((w) => w === 0)) {
    throw new BenchError('WSE_BENCH_ERR_USAGE', `--split "${text}" needs ${nodes} non-negative weights separated by "/"`);
  }
  return weights;
}

/** `total` split by `weights` (largest remainder): the shares add up to `total` exactly. */
export function shares(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const result = exact.map(Math.floor);
  let left = total - result.reduce((a, b) => a + b, 0);
  const byRemainder = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of byRemainder) {
    if (left-- <= 0) break;
    result[i]!++;
  }
  return result;
}
