/**
 * The sample report in docs/bench.md: a simulated 3-node cluster (20, 30 and 40 ms per job,
 * 4 slots each) under the built-in mix, open loop at 100 requests/s.
 *   npx tsx test/bench/bench-sample.ts [--html FILE] [--json FILE]
 */
import { parseArgs } from 'node:util';
import { runBenchCli } from '../../src/bench/cli.js';
import { startSimProcess } from './support/sims.js';

const { values } = parseArgs({ options: { html: { type: 'string' }, json: { type: 'string' } } });
const sims = await startSimProcess({ nodes: 3, latencyMs: 20, latencyStepMs: 10, slots: 4 });
try {
  const argv = [...sims.urls.flatMap((u) => ['--piston', u]), '--rate', '100', '--duration', '10s', '--warmup', '2s', '--workload', 'mix'];
  if (values.html) argv.push('--html', values.html);
  if (values.json) argv.push('--json', values.json);
  process.exitCode = await runBenchCli(argv);
} finally {
  await sims.close();
}
