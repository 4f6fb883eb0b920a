/**
 * A fleet of pistom processes sharing Redis (issue 12): 3 pistom processes (HTTP replicas, and
 * stdio processes) in front of 3 simulated nodes (each its own process, 64 slots, so that nothing
 * but pistom limits them) configured for max_concurrent 4, closed-loop load from `pistom bench`.
 *   limits      most jobs a node ever ran at once (the node's own maxInFlight), and throughput as a
 *               share of the cluster's capacity: nominal (12 slots / service time), measured straight
 *               to nodes that have 4 slots each, and one pistom process alone; with and without Redis
 *   acquire     what one slot acquire costs on loopback: FleetSlots against a real redis-server, and
 *               the p50 of whole calls through one pistom with and without Redis, side by side
 *   node-death  a node SIGKILLed mid-load: time until every process has it out of rotation, client errors
 *   redis-death Redis SIGKILLed mid-load and started again: calls lost, failed, most jobs at once
 *   process-death  a pistom process SIGKILLed mid-load: time until its slots are in use again
 *   npm run bench -- fleet [--only NAME] [--seconds 8] [--runs 3]
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { runBench } from '../../src/bench/run.js';
import type { BenchReport } from '../../src/bench/report/types.js';
import { silentLogger } from '../../src/log.js';
import { SharedConnection } from '../../src/shared/connection.js';
import { SharedKeys } from '../../src/shared/keys.js';
import { LocalSlots } from '../../src/shared/local-slots.js';
import { FleetSlots } from '../../src/shared/slots.js';
import type { NodeConfig } from '../../src/config/schema.js';
import { parseMetrics } from '../integration/ops-support.js';
import { CLI, startHttpPistom, writeConfig, type HttpPistom } from '../helpers/pistom.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { spawnSim, type SimProcess } from '../helpers/sim-process.js';
import { median, row, spread } from './support/stats.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, seconds: { type: 'string', default: '8' }, runs: { type: 'string', default: '3' } } });
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const NODES = 3;
const PROCESSES = 3;
const MAX_CONCURRENT = 4;
const SERVICE_MS = 100;
const CLIENTS_PER_PROCESS = 8;
const NOMINAL = (NODES * MAX_CONCURRENT * 1000) / SERVICE_MS;
const quiet = {};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Nodes {
  sims: SimProcess[];
  nodes: Array<{ name: string; url: string }>;
  close(): Promise<void>;
}

async function startNodes(slots = 64, latency = SERVICE_MS): Promise<Nodes> {
  const sims = await Promise.all(Array.from({ length: NODES }, () => spawnSim({ count: 1, flags: ['--slots', String(slots), '--latency', String(latency), '--time-scale', '0'] })));
  return { sims, nodes: sims.map((sim, i) => ({ name: `node-${i + 1}`, url: sim.url })), close: async () => void (await Promise.all(sims.map((sim) => sim.close()))) };
}

async function simStats(url: string): Promise<{ maxInFlight: number; inFlight: number; executed: number }> {
  return ((await (await fetch(`${url}/__sim/stats`)).json()) as { stats: { maxInFlight: number; inFlight: number; executed: number } }).stats;
}

function config(nodes: Nodes['nodes'], redis: RedisServer | undefined, extra: Record<string, unknown> = {}): string {
  return writeConfig({
    nodes: nodes.map((node) => ({ ...node, max_concurrent: MAX_CONCURRENT })),
    admission: { max_queue: 10_000, max_wait_ms: 60_000 },
    client: { answer_margin_ms: 2_000 },
    breaker: { reset_timeout_ms: 2_000 },
    log: { level: 'silent' },
    ...(redis ? { shared: { redis_url: redis.url } } : {}),
    ...extra,
  });
}

const loadFor = (ms = seconds * 1000) => ({ concurrency: CLIENTS_PER_PROCESS, durationMs: ms, warmupMs: 1000, workload: 'hello' });

interface FleetRun {
  perSecond: number;
  failed: number;
  maxAtNode: number;
  reports: BenchReport[];
}

async function httpFleet(nodes: Nodes, redis: RedisServer | undefined, processes = PROCESSES, during?: (replicas: HttpPistom[]) => Promise<void>, clients = CLIENTS_PER_PROCESS, durationMs = seconds * 1000): Promise<FleetRun & { replicas: HttpPistom[] }> {
  const file = config(nodes.nodes, redis);
  const replicas = await Promise.all(Array.from({ length: processes }, () => startHttpPistom(['--config', file])));
  try {
    const running = Promise.all(replicas.map((replica) => runBench({ target: { kind: 'mcp-http', url: `${replica.url}/mcp` }, ...loadFor(durationMs), concurrency: clients }, quiet)));
    if (during) await during(replicas);
    const reports = await running;
    return { ...(await summarize(nodes, reports)), replicas };
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
}

async function stdioFleet(nodes: Nodes, redis: RedisServer): Promise<FleetRun> {
  const file = config(nodes.nodes, redis);
  const command = `${process.execPath} ${CLI} serve --config ${file}`;
  const reports = await Promise.all(Array.from({ length: PROCESSES }, () => runBench({ target: { kind: 'mcp-stdio', command }, ...loadFor() }, quiet)));
  return summarize(nodes, reports);
}

async function summarize(nodes: Nodes, reports: BenchReport[]): Promise<FleetRun> {
  // A node killed by the scenario has no stats to give.
  const stats = (await Promise.all(nodes.nodes.map((node) => simStats(node.url).catch(() => undefined)))).filter((s) => s !== undefined);
  return {
    perSecond: reports.reduce((sum, report) => sum + report.throughput.answeredPerSec, 0),
    failed: reports.reduce((sum, report) => sum + report.counts.failed, 0),
    maxAtNode: Math.max(...stats.map((s) => s.maxInFlight)),
    reports,
  };
}

async function limits(): Promise<void> {
  console.log(`\n${PROCESSES} pistom processes, ${NODES} nodes with max_concurrent ${MAX_CONCURRENT} (${SERVICE_MS} ms per job, nodes with 64 slots), ${CLIENTS_PER_PROCESS} closed-loop clients per process, ${seconds} s, ${runs} runs (min / median / max)`);
  console.log(`Cluster capacity: nominal ${NOMINAL} calls/s (${NODES * MAX_CONCURRENT} slots / ${SERVICE_MS} ms); "measured" is the same load sent straight to nodes that have ${MAX_CONCURRENT} slots each, in the same run; "one process" is one pistom without Redis.`);
  const results: Record<string, { perSecond: number[]; maxAtNode: number[]; failed: number[] }> = {};
  const note = (name: string, run: { perSecond: number; maxAtNode?: number; failed: number }) => {
    results[name] ??= { perSecond: [], maxAtNode: [], failed: [] };
    results[name].perSecond.push(run.perSecond);
    results[name].maxAtNode.push(run.maxAtNode ?? 0);
    results[name].failed.push(run.failed);
  };
  const redis = await startRedis();
  try {
    for (let run = 0; run < runs; run++) {
      let nodes = await startNodes(MAX_CONCURRENT);
      const direct = await runBench({ target: { kind: 'piston', urls: nodes.nodes.map((node) => node.url) }, ...loadFor(), concurrency: CLIENTS_PER_PROCESS * PROCESSES }, quiet);
      note('measured', { perSecond: direct.throughput.answeredPerSec, failed: direct.counts.failed });
      await nodes.close();
      for (const [name, start] of [
        ['one process', (n: Nodes) => httpFleet(n, undefined, 1, undefined, CLIENTS_PER_PROCESS * PROCESSES)],
        ['3 HTTP replicas, no Redis', (n: Nodes) => httpFleet(n, undefined)],
        ['3 HTTP replicas, Redis', (n: Nodes) => httpFleet(n, redis)],
        ['3 stdio processes, Redis', (n: Nodes) => stdioFleet(n, redis)],
      ] as const) {
        nodes = await startNodes();
        try {
          note(name, await start(nodes));
        } finally {
          await nodes.close();
        }
      }
    }
  } finally {
    await redis.close();
  }
  const measured = median(results.measured!.perSecond);
  const single = median(results['one process']!.perSecond);
  console.log(row(['front', 'calls/s', 'share of nominal', 'share of measured', 'share of one process', 'most jobs at once on a node', 'failed']));
  console.log(row(['---', '---:', '---:', '---:', '---:', '---:', '---:']));
  for (const [name, r] of Object.entries(results)) {
    const shares = (base: number) => spread(r.perSecond.map((x) => (x / base) * 100));
    console.log(row([name, spread(r.perSecond), `${shares(NOMINAL)} %`, name === 'measured' ? '100 %' : `${shares(measured)} %`, name === 'measured' ? 'n/a' : `${shares(single)} %`, name === 'measured' ? `${MAX_CONCURRENT} (node limit)` : spread(r.maxAtNode, 0), r.failed.reduce((a, b) => a + b, 0)]));
  }
}

async function acquire(): Promise<void> {
  const redis = await startRedis();
  const node = { name: 'bench', max_concurrent: 4 } as NodeConfig;
  const signal = new AbortController().signal;
  const p50s: number[] = [];
  const p99s: number[] = [];
  const localP50s: number[] = [];
  try {
    const connection = new SharedConnection({ url: redis.url, commandTimeoutMs: 500, name: 'bench', logger: silentLogger() });
    await connection.waitUntilUp(5000);
    const slots = new FleetSlots({ connection, keys: new SharedKeys('bench:'), leaseMs: 5000, local: new LocalSlots(1), logger: silentLogger(), processId: 'bench' });
    const local = new LocalSlots(1);
    const time = async (take: () => Promise<{ release(): void }>) => {
      const samples: number[] = [];
      for (let i = 0; i < 5000; i++) {
        const started = performance.now();
        const lease = await take();
        samples.push(performance.now() - started);
        lease.release();
      }
      return samples.sort((a, b) => a - b);
    };
    for (let run = 0; run < runs; run++) {
      const shared = await time(() => slots.acquire(node, signal));
      p50s.push(shared[2500]!);
      p99s.push(shared[4950]!);
      localP50s.push((await time(() => local.acquire(node, signal)))[2500]!);
    }
    slots.close();
    await connection.close();
    console.log(`\nOne slot acquire (and release) on a free node, 5,000 in a row, ${runs} runs (min / median / max, ms)`);
    console.log(row(['path', 'p50 ms', 'p99 ms']));
    console.log(row(['---', '---:', '---:']));
    console.log(row(['Redis (FleetSlots, loopback redis-server)', spread(p50s, 3), spread(p99s, 3)]));
    console.log(row(['no Redis (nothing to ask)', spread(localP50s, 4), '']));

    // Whole calls: one client, one at a time, through one pistom with and without Redis, alternating.
    const nodes = await startNodes(64, 0);
    const withRedis: number[] = [];
    const without: number[] = [];
    try {
      for (let run = 0; run < runs; run++) {
        for (const [list, shared] of [
          [without, undefined],
          [withRedis, redis],
        ] as const) {
          const pistom = await startHttpPistom(['--config', config(nodes.nodes, shared)]);
          try {
            const report = await runBench({ target: { kind: 'mcp-http', url: `${pistom.url}/mcp` }, concurrency: 1, durationMs: Math.min(seconds, 5) * 1000, warmupMs: 500, workload: 'hello' }, quiet);
            list.push(report.latencyMs.p50);
          } finally {
            await pistom.stop();
          }
        }
      }
    } finally {
      await nodes.close();
    }
    const added = withRedis.map((ms, i) => ms - without[i]!);
    console.log(`\nWhole execute calls, one client, one call at a time (nodes answer at once), ${runs} runs side by side (min / median / max, ms)`);
    console.log(row(['pistom', 'p50 ms']));
    console.log(row(['---', '---:']));
    console.log(row(['without Redis', spread(without, 3)]));
    console.log(row(['with Redis', spread(withRedis, 3)]));
    console.log(row(['added by Redis (per run)', spread(added, 3)]));
  } finally {
    await redis.close();
  }
}

/** Whether a node is out of rotation in a process, from its metrics. */
function outIn(text: string, node: string): boolean {
  const scrape = parseMetrics(text);
  return (
    scrape.value('pistom_node_breaker_state', { node, state: 'open' }) > 0 ||
    scrape.value('pistom_node_ejected', { node }) > 0 ||
    scrape.value('pistom_fleet_node_ejected', { node }) > 0 ||
    scrape.series('pistom_node_healthy').some((labels) => labels.node === node && scrape.value('pistom_node_healthy', { node }) === 0)
  );
}

async function nodeDeath(): Promise<void> {
  console.log(`\nA node SIGKILLed at half load (${PROCESSES} HTTP replicas, ${seconds} s, ${runs} runs): time from the kill until every replica has it out of rotation (metrics polled every 10 ms), and client errors`);
  console.log(row(['fleet', 'all replicas out, ms (min / median / max)', 'first replica out, ms', 'client errors']));
  console.log(row(['---', '---:', '---:', '---:']));
  const redis = await startRedis();
  try {
    for (const shared of [undefined, redis]) {
      const all: number[] = [];
      const first: number[] = [];
      let errors = 0;
      for (let run = 0; run < runs; run++) {
        const nodes = await startNodes(64, 50);
        try {
          const result = await httpFleet(nodes, shared, PROCESSES, async (replicas) => {
            await sleep((seconds * 1000) / 2 + 1000);
            await nodes.sims[1]!.kill();
            const killedAt = performance.now();
            const outAt = new Map<number, number>();
            while (outAt.size < replicas.length && performance.now() - killedAt < 10_000) {
              await Promise.all(
                replicas.map(async (replica, i) => {
                  if (outAt.has(i)) return;
                  const text = await (await fetch(`${replica.url}/metrics`)).text();
                  if (outIn(text, 'node-2')) outAt.set(i, performance.now() - killedAt);
                }),
              );
              await sleep(10);
            }
            all.push(outAt.size === replicas.length ? Math.max(...outAt.values()) : Number.NaN);
            first.push(Math.min(...outAt.values()));
          });
          errors += result.failed;
        } finally {
          await nodes.close();
        }
      }
      console.log(row([shared ? 'with Redis' : 'without Redis', spread(all, 0), spread(first, 0), errors]));
    }
  } finally {
    await redis.close();
  }
}

async function redisDeath(): Promise<void> {
  const redis = await startRedis();
  const nodes = await startNodes();
  try {
    let events = '';
    const result = await httpFleet(nodes, redis, PROCESSES, async () => {
      await sleep(1000 + (seconds * 1000) / 3);
      await redis.kill();
      events += `Redis killed at ${Math.round(1000 + (seconds * 1000) / 3)} ms`;
      await sleep((seconds * 1000) / 3);
      await redis.restart();
      events += `, started again ${Math.round((seconds * 1000) / 3)} ms later`;
    });
    const sent = result.reports.reduce((sum, report) => sum + report.counts.sent, 0);
    const answered = result.reports.reduce((sum, report) => sum + report.counts.answered, 0);
    console.log(`\nRedis SIGKILLed mid-load and started again (${PROCESSES} HTTP replicas, ${seconds} s; ${events})`);
    console.log(row(['calls sent', 'answered', 'failed', 'lost (sent - answered - failed)', 'calls/s', 'most jobs at once on a node']));
    console.log(row(['---:', '---:', '---:', '---:', '---:', '---:']));
    console.log(row([sent, answered, result.failed, sent - answered - result.failed, result.perSecond.toFixed(1), result.maxAtNode]));
    console.log('(While Redis is away each process keeps max_concurrent by itself, so a node may run up to 3 x 4 jobs; see docs/deploy.md.)');
  } finally {
    await nodes.close();
    await redis.close();
  }
}

async function processDeath(): Promise<void> {
  const redis = await startRedis();
  const leaseMs = 5_000;
  const gone: number[] = [];
  const busy: number[] = [];
  const reader = new Redis(redis.url);
  try {
    for (let run = 0; run < runs; run++) {
      const nodes = await startNodes();
      try {
        // Load long enough to outlast the lease: killed after 3 s, then lease_ms and some more.
        await httpFleet(
          nodes,
          redis,
          PROCESSES,
          async (replicas) => {
            await sleep(4000);
            const dead = `${replicas[0]!.process.pid}@${hostname()}/`;
            replicas[0]!.process.kill('SIGKILL');
            const killedAt = performance.now();
            let goneAt: number | undefined;
            let busyAt: number | undefined;
            while ((goneAt === undefined || busyAt === undefined) && performance.now() - killedAt < 30_000) {
              if (goneAt === undefined) {
                const now = Date.now();
                const live = await Promise.all(nodes.nodes.map((node) => reader.zrangebyscore(`semaphore:pistom:slots:${node.name}`, now - leaseMs, '+inf')));
                if (!live.flat().some((member) => member.startsWith(dead))) goneAt = performance.now() - killedAt;
              }
              // The two others have 16 clients for 12 slots: every slot is in use once the dead one's are back.
              if (busyAt === undefined && goneAt !== undefined) {
                const stats = await Promise.all(nodes.nodes.map((node) => simStats(node.url)));
                if (stats.reduce((sum, s) => sum + s.inFlight, 0) >= NODES * MAX_CONCURRENT) busyAt = performance.now() - killedAt;
              }
              await sleep(10);
            }
            gone.push(goneAt ?? Number.NaN);
            busy.push(busyAt ?? Number.NaN);
          },
          CLIENTS_PER_PROCESS,
          3000 + leaseMs + 5000,
        );
      } finally {
        await nodes.close();
      }
    }
  } finally {
    reader.disconnect();
    await redis.close();
  }
  console.log(`\nA pistom process SIGKILLed under load while it holds slots (${PROCESSES} HTTP replicas, shared.lease_ms ${leaseMs}, ${runs} runs; min / median / max)`);
  console.log(row(['its slots no longer held in Redis, ms after the kill', 'every slot of the cluster in use again, ms after the kill', 'lease_ms']));
  console.log(row(['---:', '---:', '---:']));
  console.log(row([spread(gone, 0), spread(busy, 0), leaseMs]));
}

const SCENARIOS: Record<string, () => Promise<void>> = { limits, acquire, 'node-death': nodeDeath, 'redis-death': redisDeath, 'process-death': processDeath };
if (values.only && !(values.only in SCENARIOS)) {
  console.error(`unknown scenario ${values.only}; one of ${Object.keys(SCENARIOS).join(', ')}`);
  process.exit(2);
}
for (const [name, scenario] of Object.entries(SCENARIOS)) if (!values.only || values.only === name) await scenario();
