/** `pistom bench compare A.json B.json`: two runs side by side with B/A ratios. */
import { readFile } from 'node:fs/promises';
import { formatCount, formatMs, formatPercent, formatRate, table } from './report/format.js';
import { parseJsonReport } from './report/json.js';
import type { BenchReport } from './report/types.js';

export async function loadReport(file: string): Promise<BenchReport> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, { cause: error });
  }
  return parseJsonReport(text, file);
}

function ratio(a: number, b: number): string {
  if (a === 0 && b === 0) return '=';
  if (a === 0) return '-';
  return `${(b / a).toFixed(2)}x`;
}

const errorRate = (r: BenchReport) => (r.counts.sent ? r.counts.failed / r.counts.sent : 0);

function describe(report: BenchReport): string {
  const load = report.load.mode === 'closed' ? `concurrency ${report.load.concurrency}` : `rate ${report.load.rate}/s`;
  return `${report.target.kind} ${report.target.endpoints.join(', ')}; ${load}; workload ${report.workload.name}; ${report.startedAt}`;
}

export function renderComparison(a: BenchReport, b: BenchReport, names: [string, string]): string {
  type Metric = [label: string, get: (r: BenchReport) => number, format: (n: number) => string];
  const metrics: Metric[] = [
    ['throughput (answered)', (r) => r.throughput.answeredPerSec, formatRate],
    ['throughput (ok)', (r) => r.throughput.okPerSec, formatRate],
    ['p50', (r) => r.latencyMs.p50, formatMs],
    ['p90', (r) => r.latencyMs.p90, formatMs],
    ['p99', (r) => r.latencyMs.p99, formatMs],
    ['p99.9', (r) => r.latencyMs.p99_9, formatMs],
    ['max', (r) => r.latencyMs.max, formatMs],
    ['mean', (r) => r.latencyMs.mean, formatMs],
    ['sent', (r) => r.counts.sent, formatCount],
    ['failed', (r) => r.counts.failed, formatCount],
    ['error rate', errorRate, formatPercent],
  ];
  const rows = [['', 'A', 'B', 'B/A'], ...metrics.map(([label, get, format]) => [label, format(get(a)), format(get(b)), ratio(get(a), get(b))])];

  const nodeNames = [...new Set([...a.nodes, ...b.nodes].map((n) => n.node))];
  const nodeRows = nodeNames.flatMap((name) => {
    const na = a.nodes.find((n) => n.node === name);
    const nb = b.nodes.find((n) => n.node === name);
    const cell = (n: typeof na, f: (x: NonNullable<typeof na>) => string) => (n ? f(n) : '-');
    return [
      [`${name} share`, cell(na, (n) => formatPercent(n.share)), cell(nb, (n) => formatPercent(n.share)), na && nb ? ratio(na.share, nb.share) : '-'],
      [`${name} p99`, cell(na, (n) => formatMs(n.latency.p99)), cell(nb, (n) => formatMs(n.latency.p99)), na && nb ? ratio(na.latency.p99, nb.latency.p99) : '-'],
    ];
  });
  const lines = [
    `A: ${names[0]}  (${describe(a)})`,
    `B: ${names[1]}  (${describe(b)})`,
    '',
    table(rows),
  ];
  if (nodeRows.length > 0) lines.push('', table([['node', 'A', 'B', 'B/A'], ...nodeRows]));
  lines.push('', 'B/A below 1.00x is better for latency and errors, above 1.00x is better for throughput.');
  return `${lines.join('\n')}\n`;
}
