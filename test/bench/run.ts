/**
 * `npm run bench [-- NAME [flags]]`: runs the project's benchmarks (build first: npm run build).
 * Without a name it runs them all, one after the other.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The benchmarks, in the order a full run takes them. Other files in test/bench are helpers. */
const BENCHMARKS: Record<string, string> = {
  overhead: 'time pistom adds to one execute call, over HTTP and stdio',
  'cold-start': 'spawn to the first tools/list answer over stdio, with resident memory, against a bare SDK server',
  'http-throughput': 'calls/s over HTTP against the SDK stateless pattern and a bare echo',
  cluster: 'capacity share with 1-8 nodes',
  failures: 'a frozen node, a poison flood, a 4x slower node (with nginx), a node dying at half load',
  fleet: '3 pistom processes sharing Redis: node limits at the node, throughput, acquire cost, node/Redis/process deaths',
  'bench-self': 'requests/s one pistom bench process drives',
  'bench-sample': 'the sample report of a simulated 3-node cluster in docs/bench.md',
  'robustness-report': 'the chaos and fuzz suites, with the figures table of docs/robustness.md',
  attacks: 'resident memory under each hostile input of issue 11, a well-behaved client beside it',
  'call-cost': 'instructions per execute call (valgrind): echo, node call, router, pistom, SDK paths',
};

const dir = fileURLToPath(new URL('.', import.meta.url));
const [name, ...flags] = process.argv.slice(2);
if (!existsSync(fileURLToPath(new URL('../../dist/cli.js', import.meta.url)))) {
  console.error('dist/cli.js is missing: run `npm run build` first');
  process.exit(2);
}
if (name && !(name in BENCHMARKS)) {
  console.error(`unknown benchmark "${name}"; available:\n${Object.entries(BENCHMARKS).map(([n, what]) => `  ${n.padEnd(18)} ${what}`).join('\n')}`);
  process.exit(2);
}
let failed = 0;
for (const bench of name ? [name] : Object.keys(BENCHMARKS)) {
  console.log(`\n### ${bench}: ${BENCHMARKS[bench]}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${bench}.ts`, ...(name ? flags : [])], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed > 0 ? 1 : 0);
