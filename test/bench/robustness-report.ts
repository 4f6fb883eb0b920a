/**
 * Runs the robustness suites (chaos, fuzz, security, stdio) and prints the figures table of
 * docs/robustness.md from what they recorded in test-results/robustness/. Build first.
 *   npx tsx test/bench/robustness-report.ts      (or: npm run bench -- robustness-report)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FIGURES_DIR, type FiguresFile } from '../helpers/robustness-figures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SUITES = ['test/chaos', 'test/unit/fuzz-', 'test/integration/security-', 'test/integration/stdio-garbage'];

rmSync(FIGURES_DIR, { recursive: true, force: true });
const vitest = `${ROOT}node_modules/vitest/vitest.mjs`;
const run = spawnSync(process.execPath, [vitest, 'run', ...SUITES], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
if (!existsSync(FIGURES_DIR)) {
  console.error('no figures were recorded: did the suites run?');
  process.exit(1);
}

const files = readdirSync(FIGURES_DIR).filter((file) => file.endsWith('.json')).sort();
const figures = files.map((file) => JSON.parse(readFileSync(`${FIGURES_DIR}${file}`, 'utf8')) as FiguresFile);
const rows = figures.flatMap((f) => f.rows);
const memory = figures.flatMap((f) => f.memory);

const lines = ['| suite | fault or input class | calls / cases tried | lost | crashed | notes |', '|---|---|--:|--:|--:|---|'];
for (const row of rows) lines.push(`| ${row.suite} | ${row.class} | ${row.tried} | ${row.lost} | ${row.crashed} | ${row.note ?? ''} |`);
const total = rows.reduce((sum, row) => ({ tried: sum.tried + row.tried, lost: sum.lost + row.lost, crashed: sum.crashed + row.crashed }), { tried: 0, lost: 0, crashed: 0 });
lines.push(`| **all** | | **${total.tried}** | **${total.lost}** | **${total.crashed}** | |`);
if (memory.length > 0) {
  lines.push('', '| memory | before (MB) | after (MB) | peak (MB) | notes |', '|---|--:|--:|--:|---|');
  for (const m of memory) lines.push(`| ${m.label} | ${m.before_mb} | ${m.after_mb} | ${m.peak_mb ?? ''} | ${m.note ?? ''} |`);
}
console.log(`\n${lines.join('\n')}\n`);
console.log(`node ${process.version}, ${new Date().toISOString().slice(0, 10)}; tests ${run.status === 0 ? 'passed' : 'FAILED'}`);
process.exit(run.status === 0 && total.lost === 0 && total.crashed === 0 ? 0 : 1);
