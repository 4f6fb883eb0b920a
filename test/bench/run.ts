/**
 * `npm run bench [-- NAME [flags]]`: runs the project's benchmarks (build first: npm run build).
 * Without a name it runs them all, one after the other. Names: the files in test/bench/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const all = readdirSync(dir).filter((file) => file.endsWith('.ts') && file !== 'run.ts').map((file) => file.replace(/\.ts$/, ''));
const [name, ...flags] = process.argv.slice(2);
if (!existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)))) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(2);
}
if (name && !all.includes(name)) {
  console.error(`unknown benchmark "${name}"; available: ${all.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const bench of name ? [name] : all) {
  console.log(`\n### ${bench}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${bench}.ts`, ...(name ? flags : [])], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
