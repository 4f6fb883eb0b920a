/**
 * How many requests per second one bench process drives: closed loop against one zero-latency
 * node in its own process: the project's simulator (default), or with --canned a bare server
 * answering a canned result, which costs so little that the bench itself is the limit.
 *   npx tsx test/bench/bench-self.ts [--canned] [--concurrency 64] [--duration 10s] [--workload hello|FILE.jsonl]
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/bench/duration.js';
import { renderTextReport } from '../../src/bench/report/text.js';
import { runBench } from '../../src/bench/run.js';
import { startSimProcess } from './support/sims.js';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '64' }, duration: { type: 'string', default: '10s' }, workload: { type: 'string', default: 'hello' }, canned: { type: 'boolean', default: false } },
});
const sims = await startSimProcess({ nodes: 1, latencyMs: 0, timeScale: 0, slots: 1024, canned: values.canned });
try {
  const report = await runBench({
    target: { kind: 'piston', urls: sims.urls },
    concurrency: Number(values.concurrency),
    durationMs: parseDuration(values.duration)!,
    warmupMs: 2000,
    workload: values.workload,
  });
  console.log(renderTextReport(report));
  console.log(`bench-self: ${Math.round(report.throughput.answeredPerSec)} requests/s from one bench process (closed loop, concurrency ${values.concurrency}, workload ${values.workload}, zero-latency ${values.canned ? 'canned' : 'sim'} node, ${report.environment.cpus} CPUs, Node ${report.environment.node})`);
} finally {
  await sims.close();
}
