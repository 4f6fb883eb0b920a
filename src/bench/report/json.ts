import { writeFile } from 'node:fs/promises';
import type { BenchReport } from './types.js';

export function renderJsonReport(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

export async function writeJsonReport(report: BenchReport, file: string): Promise<void> {
  await writeFile(file, renderJsonReport(report), 'utf8');
}

export function parseJsonReport(text: string, file: string): BenchReport {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`, { cause: error });
  }
  const report = parsed as Partial<BenchReport> | null;
  if (!report || report.schema !== 'pistom-bench/1' || !report.counts || !report.latencyMs) {
    throw new Error(`${file}: not a pistom bench report (written by pistom bench --json)`);
  }
  return report as BenchReport;
}
