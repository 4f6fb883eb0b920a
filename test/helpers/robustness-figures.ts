/**
 * The figures behind docs/robustness.md: each robustness test file records, per fault or input
 * class, how many calls or cases it tried and how many were lost (no answer, or more than one) or
 * crashed something, and writes them to test-results/robustness/<file>.json when it ends.
 * test/bench/robustness-report.ts runs the suites and prints the table from these files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIGURES_DIR = fileURLToPath(new URL('../../test-results/robustness/', import.meta.url));

export interface FigureRow {
  suite: string;
  class: string;
  tried: number;
  lost: number;
  crashed: number;
  note?: string;
}

export interface MemoryFigure {
  label: string;
  before_mb: number;
  after_mb: number;
  peak_mb?: number;
  note?: string;
}

export interface FiguresFile {
  rows: FigureRow[];
  memory: MemoryFigure[];
}

export class FigureRecorder {
  private readonly rows: FigureRow[] = [];
  private readonly memory: MemoryFigure[] = [];

  constructor(private readonly suite: string) {}

  row(entry: Omit<FigureRow, 'suite'>): void {
    const existing = this.rows.find((row) => row.class === entry.class);
    if (existing) {
      existing.tried += entry.tried;
      existing.lost += entry.lost;
      existing.crashed += entry.crashed;
      return;
    }
    this.rows.push({ suite: this.suite, ...entry });
  }

  memoryFigure(entry: MemoryFigure): void {
    this.memory.push(entry);
  }

  write(): void {
    if (this.rows.length === 0 && this.memory.length === 0) return;
    mkdirSync(FIGURES_DIR, { recursive: true });
    const file: FiguresFile = { rows: this.rows, memory: this.memory };
    writeFileSync(`${FIGURES_DIR}${this.suite}.json`, `${JSON.stringify(file, null, 2)}\n`);
  }
}
