import type { BenchTarget } from '../fanout/target.js';
import { formatGrid } from '../report/grid.js';

/** One test of the suite, ready to print: a table plus what a reader needs to trust it. */
export interface Section {
  title: string;
  /** What was run, on what, with which settings. */
  setup: string;
  columns: string[];
  rows: string[][];
  notes: string[];
  /** True when the test saw a failure it exists to catch (lost connections, unanswered pings, …). */
  failed: boolean;
  /** Everything measured, for `--json`. */
  data: unknown;
}

/** What every suite test runs against. */
export interface SuiteContext {
  target: BenchTarget;
  /** Sent as `Cookie: access_token=…` by every connection (PROTOCOL.md §2). */
  token: string;
  progress: (line: string) => void;
}

export function formatSection(section: Section, markdown: boolean): string {
  const title = markdown ? `### ${section.title}` : `== ${section.title} ==`;
  const notes = section.notes.length === 0 ? [] : ['', ...section.notes.map((n) => (markdown ? `- ${n}` : n))];
  return [title, '', section.setup, '', formatGrid(section.columns, section.rows, markdown), ...notes].join('\n');
}

export function targetDescription(target: BenchTarget): string {
  return `${target.label} at ${target.nodes.map((n) => `${n.endpoint.host}:${n.endpoint.port}`).join(', ')}`;
}
