/**
 * The failure model's figures (issue 9), measured with `pistom bench` (runBench) against pistom
 * (the built CLI over Streamable HTTP) in front of simulated nodes, each in its own process:
 *   frozen      one of three nodes frozen (SIGSTOP) under closed-loop load: throughput and p99
 *               against the same run without the fault, in rounds (min/median/max)
 *   poison      a flood of poisoned calls (a memory limit below the sandbox's floor) beside a
 *               well-behaved client: that client's errors, throughput and p99 against the same
 *               client alone; breakers opened
 *   slow-node   one node 4x slower, open loop at 60% of capacity: p50/p99 of least-loaded,
 *               round-robin and nginx round-robin, in rounds (min/median/max)
 *   node-death  one of three nodes killed (SIGKILL) at half load: client-visible errors
 *   npm run bench -- failures [--only NAME] [--seconds 10] [--rounds 3]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from '../../src/bench/run.js';
import type { BenchReport } from '../../src/bench/report/types.js';
import { startHttpPistom, writeConfig, type HttpPistom } from '../helpers/pistom.js';
import type { SimProcess } from '../helpers/sim-process.js';
import { nginxAvailable, startNginx } from './support/nginx.js';
import { startSims } from './support/processes.js';
import { row, spread } from './support/stats.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const SLOTS = 4;
const quiet = {};

/** One simulated node per process, so that one can be frozen or killed alone. */
async function simNodes(latencies: number[]): Promise<{ procs: SimProcess[]; nodes: Array<{ name: string; url: string }>; close(): Promise<void> }> {
  const procs = await Promise.all(latencies.map((latency) => startSims(1, ['--slots', String(SLOTS), '--latency', String(latency), '--time-scale', '0'])));
  return {
    procs,
    nodes: procs.map((proc, i) => ({ name: `sim-${i + 1}`, url: proc.url })),
    close: async () => {
      await Promise.all(procs.map((proc) => proc.close()));
    },
  };
}

async function pistomFor(nodes: Array<{ name: string; url: string }>, options: { strategy?: string; perNode?: number } = {}): Promise<HttpPistom> {
  const config = writeConfig({
    nodes: nodes.map((node) => ({ name: node.name, url: node.url, max_concurrent: options.perNode ?? SLOTS * 2 })),
    balancer: { strategy: options.strategy ?? 'least-loaded' },
    admission: { max_queue: 10_000, max_wait_ms: 60_000 },
    log: { level: 'silent' },
  });
  return startHttpPistom(['--config', config]);
}

async function metric(pistom: HttpPistom, name: string): Promise<number> {
  const text = await (await fetch(`${pistom.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'gm'))].reduce((sum, match) => sum + Number(match[1]), 0);
}

async function frozen(): Promise<void> {
  const serviceMs = 50;
  const concurrency = 6; // half the cluster's 12 slots: what two nodes carry alone
  console.log(`\nOne of three nodes frozen (SIGSTOP) a third of the way through a closed-loop run (${concurrency} callers, ${SLOTS} slots and ${serviceMs} ms per job per node, ${seconds} s measured), against the same run without the fault; ${rounds} rounds, fresh processes each run`);
  console.log(row(['round', 'healthy calls/s', 'frozen calls/s', 'throughput share', 'healthy p99 ms', 'frozen p99 ms', 'p99 ratio', 'client errors', 'attempts moved off the frozen node']));
  console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  const shares: number[] = [];
  const ratios: number[] = [];
  let errors = 0;
  for (let round = 1; round <= rounds; round++) {
    const measure = async (freeze: boolean): Promise<{ report: BenchReport; moved: number }> => {
      const sims = await simNodes([serviceMs, serviceMs, serviceMs]);
      const pistom = await pistomFor(sims.nodes);
      try {
        const freezer = freeze ? setTimeout(() => void sims.procs[1]!.freeze(), (1 + seconds / 3) * 1000) : undefined;
        const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, concurrency, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
        clearTimeout(freezer);
        return { report, moved: await metric(pistom, 'pistom_redispatched_attempts_total') };
      } finally {
        await pistom.stop();
        await sims.close();
      }
    };
    const healthy = await measure(false);
    const faulty = await measure(true);
    const share = faulty.report.throughput.answeredPerSec / healthy.report.throughput.answeredPerSec;
    const ratio = faulty.report.latencyMs.p99 / healthy.report.latencyMs.p99;
    shares.push(share * 100);
    ratios.push(ratio);
    errors += faulty.report.counts.failed + healthy.report.counts.failed;
    console.log(row([round, healthy.report.throughput.answeredPerSec.toFixed(1), faulty.report.throughput.answeredPerSec.toFixed(1), `${(share * 100).toFixed(1)}%`, healthy.report.latencyMs.p99.toFixed(1), faulty.report.latencyMs.p99.toFixed(1), `${ratio.toFixed(2)}x`, faulty.report.counts.failed, faulty.moved]));
  }
  console.log(`\nthroughput share min/median/max: ${spread(shares)} % (goal >= 90%); p99 ratio min/median/max: ${spread(ratios, 2)} (goal <= 3x); client errors: ${errors} (goal 0)`);
}

/** A workload file of poisoned calls: every body different, so that none is refused from memory. */
function poisonWorkload(): string {
  const requests = Array.from({ length: 20_000 }, (_, i) => ({ name: `poison-${i}`, language: 'python', code: `print(${i})`, run_memory_limit: 3000 }));
  const file = join(tmpdir(), `pistom-poison-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(requests));
  return file;
}

async function poison(): Promise<void> {
  const serviceMs = 50;
  const concurrency = 6;
  const floodConcurrency = 6;
  const workload = poisonWorkload();
  console.log(`\nA flood of poisoned calls (run_memory_limit: 3000, every body different: XX on every node) from ${floodConcurrency} callers, beside a well-behaved client (${concurrency} callers, hello world), against the same client alone; 3 nodes, ${SLOTS} slots and ${serviceMs} ms per job, ${seconds} s; ${rounds} rounds`);
  console.log(row(['round', 'alone calls/s', 'beside the flood calls/s', 'throughput share', 'alone p99 ms', 'beside p99 ms', 'well-behaved errors', 'poison calls answered', 'answered as request_rejected_by_nodes', 'breakers opened']));
  console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
  const shares: number[] = [];
  let goodErrors = 0;
  let opened = 0;
  for (let round = 1; round <= rounds; round++) {
    const run = async (flood: boolean) => {
      const sims = await simNodes([serviceMs, serviceMs, serviceMs]);
      const pistom = await pistomFor(sims.nodes);
      try {
        const target = { kind: 'mcp-http' as const, url: `${pistom.url}/mcp` };
        const [good, bad] = await Promise.all([
          runBench({ target, concurrency, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet),
          flood ? runBench({ target, concurrency: floodConcurrency, durationMs: seconds * 1000, warmupMs: 1000, workload }, quiet) : undefined,
        ]);
        return { good, bad, opened: await metric(pistom, 'pistom_breaker_transitions_total'), poisoned: await metric(pistom, 'pistom_poisoned_requests_total') };
      } finally {
        await pistom.stop();
        await sims.close();
      }
    };
    const alone = await run(false);
    const beside = await run(true);
    const share = beside.good.throughput.answeredPerSec / alone.good.throughput.answeredPerSec;
    shares.push(share * 100);
    goodErrors += beside.good.counts.failed;
    opened += beside.opened;
    console.log(row([round, alone.good.throughput.answeredPerSec.toFixed(1), beside.good.throughput.answeredPerSec.toFixed(1), `${(share * 100).toFixed(1)}%`, alone.good.latencyMs.p99.toFixed(1), beside.good.latencyMs.p99.toFixed(1), beside.good.counts.failed, beside.bad!.counts.sent, beside.poisoned, beside.opened]));
  }
  console.log(`\nwell-behaved throughput share min/median/max: ${spread(shares)} %; its errors: ${goodErrors} (goal 0); breaker transitions: ${opened} (goal 0)`);
}

async function slowNode(): Promise<void> {
  const fast = 20;
  const slow = fast * 4;
  const capacityPerS = 2 * ((SLOTS * 1000) / fast) + (SLOTS * 1000) / slow;
  const rate = Math.round(capacityPerS * 0.6);
  console.log(`\nOne node 4x slower (${fast}, ${fast}, ${slow} ms per job, ${SLOTS} slots each, capacity ${capacityPerS}/s), open loop at ${rate}/s (60%), ${seconds} s; ${rounds} rounds, the fronts interleaved, fresh nodes each round`);
  const fronts = ['least-loaded', 'round-robin', ...(nginxAvailable() ? ['nginx'] : [])];
  const results = new Map<string, { p50: number[]; p99: number[]; slowShare: number[]; failed: number }>(fronts.map((front) => [front, { p50: [], p99: [], slowShare: [], failed: 0 }]));
  for (let round = 1; round <= rounds; round++) {
    for (const front of fronts) {
      const sims = await simNodes([fast, fast, slow]);
      const nodes = sims.nodes.map((node, i) => ({ ...node, name: i === 2 ? 'sim-slow' : node.name }));
      try {
        let report: BenchReport;
        if (front === 'nginx') {
          const nginx = await startNginx(nodes.map((node) => node.url));
          try {
            report = await runBench({ target: { kind: 'piston', urls: [nginx.url] }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
          } finally {
            await nginx.close();
          }
        } else {
          const pistom = await pistomFor(nodes, { strategy: front });
          try {
            report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
          } finally {
            await pistom.stop();
          }
        }
        const entry = results.get(front)!;
        entry.p50.push(report.latencyMs.p50);
        entry.p99.push(report.latencyMs.p99);
        entry.slowShare.push(((report.nodes.find((node) => node.node === 'sim-slow')?.share ?? (front === 'nginx' ? 1 / 3 : 0)) * 100));
        entry.failed += report.counts.failed;
      } finally {
        await sims.close();
      }
    }
  }
  console.log(row(['front', 'p50 ms min/median/max', 'p99 ms min/median/max', "slow node's share % min/median/max", 'failed']));
  console.log(row(['---', '---:', '---:', '---:', '---:']));
  for (const [front, entry] of results) {
    console.log(row([front === 'nginx' ? 'nginx round-robin (no MCP)' : `pistom ${front}`, spread(entry.p50), spread(entry.p99), front === 'nginx' ? '33.3 (round-robin)' : spread(entry.slowShare), entry.failed]));
  }
}

async function nodeDeath(): Promise<void> {
  const serviceMs = 50;
  const sims = await simNodes([serviceMs, serviceMs, serviceMs]);
  const capacityPerS = (3 * SLOTS * 1000) / serviceMs;
  const rate = capacityPerS / 2;
  const pistom = await pistomFor(sims.nodes);
  try {
    const killer = setTimeout(() => void sims.procs[0]!.kill(), (1 + seconds / 2) * 1000);
    const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, rate, durationMs: seconds * 1000, warmupMs: 1000, workload: 'hello' }, quiet);
    clearTimeout(killer);
    console.log(`\nOne of three nodes killed (SIGKILL) halfway through a run at half load (${rate}/s of ${capacityPerS}/s capacity, ${seconds} s)`);
    const retries = await metric(pistom, 'pistom_retries_total');
    const killedShare = report.nodes.find((node) => node.node === sims.nodes[0]!.name)?.requests ?? 0;
    console.log(row(['sent', 'answered', 'client-visible errors', 'answered by the killed node (before it died)', 'attempts retried on another node', 'p50 ms', 'p99 ms', 'max ms']));
    console.log(row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']));
    console.log(row([report.counts.sent, report.counts.answered, report.counts.failed, killedShare, retries, report.latencyMs.p50.toFixed(1), report.latencyMs.p99.toFixed(1), report.latencyMs.max.toFixed(1)]));
  } finally {
    await pistom.stop();
    await sims.close();
  }
}

const runs: Record<string, () => Promise<void>> = { frozen, poison, 'slow-node': slowNode, 'node-death': nodeDeath };
if (values.only && !(values.only in runs)) {
  console.error(`unknown part "${values.only}"; parts: ${Object.keys(runs).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(runs)) {
  if (values.only && values.only !== name) continue;
  await run();
}
