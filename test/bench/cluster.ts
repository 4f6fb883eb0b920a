/**
 * The cluster figures of the README, measured with `pistom bench` (runBench) against pistom (the
 * built CLI over Streamable HTTP) in front of simulated nodes in their own processes:
 *   capacity    throughput through pistom as a share of the cluster's capacity, 1/2/4/8 nodes
 *   npm run bench -- cluster [--seconds 8]
 * Faults (a slow, frozen or dying node, poisoned calls) are in failures.ts.
 */
import { parseArgs } from 'node:util';
import { runBench } from '../../src/bench/run.js';
import { startHttpPistom, writeConfig, type HttpPistom } from '../helpers/pistom.js';
import { startSims } from './support/processes.js';
import { row } from './support/stats.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, seconds: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
const SLOTS = 4;
// pistom may keep a few more calls on a node than it has slots: the node's own FIFO then always
// holds the next job, so a slot never idles for the round trip between an answer and the next call.
const PISTOM_PER_NODE = SLOTS * 2;

async function pistomFor(nodes: Array<{ name: string; url: string }>, strategy = 'least-loaded'): Promise<HttpPistom> {
  const config = writeConfig({
    nodes: nodes.map((node) => ({ name: node.name, url: node.url, max_concurrent: PISTOM_PER_NODE })),
    balancer: { strategy },
    admission: { max_queue: 10_000, max_wait_ms: 60_000 },
    breaker: { volume_threshold: 5, reset_timeout_ms: 2000 },
    client: { answer_margin_ms: 1000 },
    log: { level: 'silent' },
  });
  return startHttpPistom(['--config', config]);
}

const quiet = {};

async function capacity(): Promise<void> {
  const serviceMs = 50;
  console.log(`\nThroughput through pistom as a share of cluster capacity (${SLOTS} slots per node, ${serviceMs} ms per job; pistom max_concurrent ${PISTOM_PER_NODE} per node; closed loop, ${seconds} s each)`);
  console.log('"nominal" is slots x 1000 / service time; "measured" is the same closed loop sent straight to the nodes in the same run (what the simulated nodes and timers really deliver on this machine).');
  console.log(row(['nodes', 'nominal calls/s', 'measured straight to nodes', 'through pistom', 'share of nominal', 'share of measured', 'p99 ms', 'failed']));
  console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const count of [1, 2, 4, 8]) {
    const sims = await startSims(count, ['--slots', String(SLOTS), '--latency', String(serviceMs), '--time-scale', '0']);
    const pistom = await pistomFor(sims.nodes);
    try {
      const load = { concurrency: count * PISTOM_PER_NODE * 2, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' };
      const direct = await runBench({ target: { kind: 'piston', urls: sims.nodes.map((node) => node.url) }, ...load }, quiet);
      const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, ...load }, quiet);
      const nominal = (count * SLOTS * 1000) / serviceMs;
      const through = report.throughput.answeredPerSec;
      const measured = direct.throughput.answeredPerSec;
      console.log(row([count, nominal, measured.toFixed(1), through.toFixed(1), `${((through / nominal) * 100).toFixed(1)}%`, `${((through / measured) * 100).toFixed(1)}%`, report.latencyMs.p99.toFixed(1), report.counts.failed]));
    } finally {
      await pistom.stop();
      await sims.close();
    }
  }
}

const runs: Record<string, () => Promise<void>> = { capacity };
for (const [name, run] of Object.entries(runs)) {
  if (values.only && values.only !== name) continue;
  await run();
}
