/**
 * The cluster figures of the README, measured with `pistom bench` (runBench) against pistom (the
 * built CLI over Streamable HTTP) in front of simulated nodes in their own processes:
 *   capacity    throughput through pistom as a share of the cluster's capacity, 1/2/4/8 nodes
 *   slow-node   one node 4x slower: p99 under least-loaded, round-robin, and nginx round-robin
 *   node-death  client-visible errors when one of three nodes dies at half load
 *   npm run bench -- cluster [--only capacity|slow-node|node-death] [--seconds 8]
 */
import { parseArgs } from 'node:util';
import { runBench } from '../../src/bench/run.js';
import type { BenchReport } from '../../src/bench/report/types.js';
import { startHttpPistom, writeConfig, type HttpPistom } from '../helpers/pistom.js';
import { nginxAvailable, startNginx } from './support/nginx.js';
import { startSims } from './support/processes.js';

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

function row(cells: Array<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}

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

async function slowNode(): Promise<void> {
  const fast = 20;
  const slow = fast * 4;
  const capacityPerS = 2 * ((SLOTS * 1000) / fast) + (SLOTS * 1000) / slow;
  const rate = Math.round(capacityPerS * 0.6);
  const simProcesses = await Promise.all([fast, fast, slow].map((latency) => startSims(1, ['--slots', String(SLOTS), '--latency', String(latency), '--time-scale', '0'])));
  const nodes = simProcesses.map((sims, i) => ({ name: `sim-${i + 1}${i === 2 ? '-slow' : ''}`, url: sims.nodes[0]!.url }));
  console.log(`\nOne node 4x slower (${fast}, ${fast}, ${slow} ms per job, ${SLOTS} slots each, capacity ${capacityPerS}/s), open loop at ${rate}/s (60%), ${seconds} s`);
  console.log(row(['front', 'p50 ms', 'p99 ms', 'max ms', 'share of the slow node', 'failed']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:']));
  const slowShare = (report: BenchReport) => {
    const node = report.nodes.find((n) => n.node.includes('slow') || n.node === nodes[2]!.url);
    return node ? `${(node.share * 100).toFixed(1)}%` : 'n/a';
  };
  const print = (label: string, report: BenchReport, share: string) =>
    console.log(row([label, report.latencyMs.p50.toFixed(1), report.latencyMs.p99.toFixed(1), report.latencyMs.max.toFixed(1), share, report.counts.failed]));
  try {
    for (const strategy of ['least-loaded', 'round-robin']) {
      const pistom = await pistomFor(nodes, strategy);
      try {
        const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
        print(`pistom ${strategy}`, report, slowShare(report));
      } finally {
        await pistom.stop();
      }
    }
    if (nginxAvailable()) {
      const nginx = await startNginx(nodes.map((node) => node.url));
      try {
        const report = await runBench({ target: { kind: 'piston', urls: [nginx.url] }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
        print('nginx round-robin (no MCP)', report, '33.3% (round-robin)');
      } finally {
        await nginx.close();
      }
    } else {
      console.log('| nginx round-robin | not installed: apt-get install nginx | | | | |');
    }
  } finally {
    await Promise.all(simProcesses.map((sims) => sims.close()));
  }
}

async function nodeDeath(): Promise<void> {
  const serviceMs = 50;
  const simProcesses = await Promise.all([0, 1, 2].map(() => startSims(1, ['--slots', String(SLOTS), '--latency', String(serviceMs), '--time-scale', '0'])));
  const nodes = simProcesses.map((sims, i) => ({ name: `sim-${i + 1}`, url: sims.nodes[0]!.url }));
  const capacityPerS = (3 * SLOTS * 1000) / serviceMs;
  const rate = capacityPerS / 2;
  const pistom = await pistomFor(nodes);
  try {
    const killer = setTimeout(() => void simProcesses[0]!.kill(), (1 + seconds / 2) * 1000);
    const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
    clearTimeout(killer);
    console.log(`\nOne of three nodes killed (SIGKILL) halfway through a run at half load (${rate}/s of ${capacityPerS}/s capacity, ${seconds} s)`);
    const metrics = await (await fetch(`${pistom.url}/metrics`)).text();
    const retries = [...metrics.matchAll(/^pistom_retries_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
    const killedShare = report.nodes.find((node) => node.node === nodes[0]!.name)?.requests ?? 0;
    console.log(row(['sent', 'answered', 'client-visible errors', 'answered by the killed node (before it died)', 'attempts retried on another node', 'p50 ms', 'p99 ms', 'max ms']));
    console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    console.log(row([report.counts.sent, report.counts.answered, report.counts.failed, killedShare, retries, report.latencyMs.p50.toFixed(1), report.latencyMs.p99.toFixed(1), report.latencyMs.max.toFixed(1)]));
  } finally {
    await pistom.stop();
    await Promise.all(simProcesses.map((sims) => sims.close()));
  }
}

const runs: Record<string, () => Promise<void>> = { capacity, 'slow-node': slowNode, 'node-death': nodeDeath };
for (const [name, run] of Object.entries(runs)) {
  if (values.only && values.only !== name) continue;
  await run();
}
