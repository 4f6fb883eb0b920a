/** The few figures every benchmark prints: medians, min / median / max, and table rows. */

/** The middle sample (the upper one of an even count). */
export function median(samples: number[]): number {
  return [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
}

/** "min / median / max" of repeated runs. */
export function spread(samples: number[], digits = 1): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `${sorted[0]!.toFixed(digits)} / ${sorted[Math.floor(sorted.length / 2)]!.toFixed(digits)} / ${sorted.at(-1)!.toFixed(digits)}`;
}

/** One row of a Markdown table. */
export function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}
