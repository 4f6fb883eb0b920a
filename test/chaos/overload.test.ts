/**
 * Chaos: ten times the cluster's capacity, from pistom's own process (the built CLI over HTTP, so
 * its resident memory is measured alone). Every call is answered exactly once; calls past the
 * queue are refused at once with a clear, retryable error; memory stays bounded across three rounds;
 * the cluster serves normally afterwards. Counts go to test-results/robustness/chaos-overload.json.
 */
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { startSimCluster } from '../../src/sim/index.js';
import { startHttpPistom, writeConfig } from '../helpers/pistom.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { callMany, connectCounting, CrashWatch, recovered, type CountingClient } from './support/harness.js';

// The SDK's HTTP client hangs every request it has in flight on one abort signal of its own;
// this test keeps well over Node's default 1500 in flight from one client on purpose.
setMaxListeners(20_000);

const NODES = 3;
const SLOTS_PER_NODE = 2;
const MAX_QUEUE = 6;
/** Calls the cluster holds at once: running plus queued. */
const CAPACITY = NODES * SLOTS_PER_NODE + MAX_QUEUE;
const CALLERS = CAPACITY * 10;
const CALLS_PER_ROUND = 2_400;
const MB = 1024 * 1024;

const figures = new FigureRecorder('chaos-overload');
afterAll(() => figures.write());

/** Resident memory of a process, from /proc (Linux) or, failing that, pistom's /metrics. */
async function residentBytes(pid: number, url: string): Promise<number> {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) return Number(match[1]) * 1024;
  } catch {
    // not Linux: fall through to the metrics endpoint
  }
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^pistom_process_resident_memory_bytes (\S+)/m.exec(text)?.[1] ?? Number.NaN);
}

interface Round {
  served: number;
  refused: number;
  /** How long refused calls took, client side (ms), sorted. */
  refusalMs: number[];
}

async function overloadRound(client: CountingClient): Promise<Round> {
  const took: number[] = [];
  const timed: CountingClient = {
    ...client,
    call: async (args, tool) => {
      const started = performance.now();
      const result = await client.call(args, tool);
      if (result.isError) took.push(performance.now() - started);
      return result;
    },
  };
  const results = await callMany(timed, CALLS_PER_ROUND, CALLERS);
  const refused = results.filter((r) => r.isError);
  for (const r of refused) {
    expect(r._meta!['pistom/error']).toMatchObject({ class: 'overload', code: 'queue_full' });
    expect(r._meta!['pistom/error'].retry_after_ms).toBeGreaterThan(0);
    expect(r.content[0]!.text).toMatch(/overloaded.*retry in about \d+ s/);
  }
  return { served: results.length - refused.length, refused: refused.length, refusalMs: took.sort((a, b) => a - b) };
}

it('holds ten times its capacity: answers every call, refuses the excess fast and clearly, memory bounded', async () => {
  const watch = new CrashWatch().install();
  const sims = await startSimCluster(NODES, { latencyMs: 40 });
  const config = writeConfig({
    nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, max_concurrent: SLOTS_PER_NODE })),
    admission: { max_queue: MAX_QUEUE, max_wait_ms: 30_000 },
    health: { interval_ms: 60_000 },
  });
  const pistom = await startHttpPistom(['--config', config]);
  const client = await connectCounting(pistom.url);
  try {
    const pid = pistom.process.pid!;
    await callMany(client, 300, CAPACITY); // warm up: JIT, pools, caches
    const before = await residentBytes(pid, pistom.url);
    let peak = before;
    const sampler = setInterval(() => {
      void residentBytes(pid, pistom.url).then((rss) => (peak = Math.max(peak, rss)), () => undefined);
    }, 200);
    const rounds: Round[] = [];
    const rss: number[] = [];
    for (let i = 0; i < 3; i++) {
      rounds.push(await overloadRound(client));
      rss.push(await residentBytes(pid, pistom.url));
    }
    clearInterval(sampler);
    const after = rss.at(-1)!;
    const served = rounds.reduce((sum, r) => sum + r.served, 0);
    const refused = rounds.reduce((sum, r) => sum + r.refused, 0);
    const refusalMs = rounds.flatMap((r) => r.refusalMs).sort((a, b) => a - b);
    const quantile = (q: number) => Math.round(refusalMs[Math.min(refusalMs.length - 1, Math.floor(q * refusalMs.length))] ?? 0);
    const recovery = await recovered(client, { batch: CAPACITY });

    const tally = client.tally();
    figures.row({ class: `overload: ${CALLERS} callers on ${CAPACITY} places (10x)`, tried: tally.sent, lost: tally.lost, crashed: watch.events.length + (pistom.process.exitCode === null ? 0 : 1), note: `served ${served}, refused ${refused} (queue_full, client-side p50 ${quantile(0.5)} ms, p99 ${quantile(0.99)} ms)` });
    figures.memoryFigure({ label: `pistom RSS, 3 rounds of ${CALLS_PER_ROUND} calls from ${CALLERS} callers`, before_mb: round(before / MB), after_mb: round(after / MB), peak_mb: round(peak / MB), note: `after each round: ${rss.map((value) => round(value / MB)).join(', ')} MB` });

    expect(tally.lost, 'calls answered zero times or more than once').toBe(0);
    expect(watch.events).toEqual([]);
    expect(pistom.process.exitCode, 'pistom is still running').toBeNull();
    expect(pistom.stderr()).not.toMatch(/unhandled|uncaught|FATAL/i);
    expect(refused, 'the excess is refused').toBeGreaterThan(0);
    expect(served).toBeGreaterThan(CAPACITY);
    // Bounded: once two rounds have warmed everything up (heap sized, JIT done), a third must not keep growing memory.
    expect(after - rss[1]!).toBeLessThan(40 * MB);
    expect(after - before).toBeLessThan(128 * MB);
    expect(recovery.ok, 'the cluster serves normally after the overload').toBe(true);
    const status = await (await fetch(`${pistom.url}/readyz`)).json();
    expect(status).toEqual({ status: 'ready' });
  } finally {
    watch.uninstall();
    await client.close();
    expect(await pistom.stop()).toBe(0);
    await Promise.all(sims.map((sim) => sim.close()));
  }
});

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
