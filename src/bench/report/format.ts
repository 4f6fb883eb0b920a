/** Number formatting shared by the text report, the live view and compare. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0ms';
  if (ms < 1) return `${ms.toFixed(3)}ms`;
  if (ms < 10) return `${ms.toFixed(2)}ms`;
  if (ms < 1000) return `${ms.toFixed(1)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatRate(perSec: number): string {
  return perSec >= 100 ? `${Math.round(perSec).toLocaleString('en-US')}/s` : `${perSec.toFixed(1)}/s`;
}

export function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

/** Lays out rows as columns; the first row is the header. Numbers are right-aligned. */
export function table(rows: string[][], rightAlignFrom = 1): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, col) => (col >= rightAlignFrom ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Where latency is measured from: the schedule in open loop, the send in closed loop. */
export function latencyOrigin(load: { mode: 'closed' | 'open' }): string {
  return load.mode === 'open' ? 'from when each was due' : 'from when each was sent';
}
