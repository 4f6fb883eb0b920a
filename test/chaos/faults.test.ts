/**
 * Chaos: simulated Piston nodes under load while faults strike them. Every case checks that each
 * call was answered exactly once (answers counted per request id on the wire), that nothing raised
 * an unhandled rejection or uncaught exception, and that the cluster serves again once the fault
 * is cleared. Counts go to test-results/robustness/chaos-faults.json (docs/robustness.md).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_RUNTIMES, startSimCluster, type SimNode } from '../../src/sim/index.js';
import { startInProcess, type InProcess } from '../helpers/inprocess.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { FigureRecorder } from '../helpers/robustness-figures.js';
import { callMany, connectCounting, CrashWatch, expectClearErrors, recovered, type CountingClient } from './support/harness.js';

const FAST_CAPS = { run_timeout: 1000, compile_timeout: 1000, run_cpu_time: 1000, compile_cpu_time: 1000 };
const TUNED = {
  breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 400, rolling_window_ms: 4000 },
  health: { interval_ms: 60_000 },
  client: { answer_margin_ms: 300, connect_timeout_ms: 500 },
  retry: { deadline_ms: 15_000, max_attempts: 3, budget_min_per_s: 100 },
} satisfies Partial<ConfigInput>;

const figures = new FigureRecorder('chaos-faults');

interface Case {
  sims: SimNode[];
  app: InProcess;
  client: CountingClient;
}

describe('chaos: faults on the nodes', () => {
  let current: Case | undefined;
  let watch: CrashWatch;
  let calls = 0;

  async function setUp(options: { nodes?: number; latencyMs?: number; config?: Partial<ConfigInput> } = {}): Promise<Case> {
    const sims = await startSimCluster(options.nodes ?? 3, { latencyMs: options.latencyMs ?? 10 });
    const app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: FAST_CAPS })), ...TUNED, ...options.config });
    const client = await connectCounting(app.url);
    current = { sims, app, client };
    return current;
  }

  /** Counts the case, then asserts: every call answered once, nothing crashed, the cluster recovered. */
  async function finish(name: string, c: Case, recovery: { ok: boolean; calls: number }): Promise<void> {
    const tally = c.client.tally();
    figures.row({ class: name, tried: tally.sent, lost: tally.lost, crashed: watch.events.length });
    calls = tally.sent;
    expect(tally.lost, 'calls answered zero times or more than once').toBe(0);
    expect(watch.events).toEqual([]);
    expect(recovery.ok, 'the cluster serves again after the fault is cleared').toBe(true);
  }

  beforeEach(() => {
    watch = new CrashWatch().install();
  });

  afterEach(async () => {
    if (current) {
      await current.client.close();
      await current.app.close();
      await Promise.all(current.sims.map((sim) => sim.close()));
      current = undefined;
    }
    watch.uninstall();
    expect(calls).toBeGreaterThan(0);
  });

  afterAll(() => figures.write());

  it('a node killed under load and restarted', async () => {
    const c = await setUp({ latencyMs: 20 });
    const [victim] = c.sims;
    const results = await callMany(c.client, 120, 12, undefined, (done) => {
      if (done === 20) void victim!.stop();
      if (done === 70) void victim!.start();
    });
    expect(results.filter((r) => r.isError).map((r) => r.content[0]!.text)).toEqual([]);
    await finish('node killed and restarted', c, await recovered(c.client, { node: victim!.name }));
  });

  it('a node that accepts requests and never answers', async () => {
    const c = await setUp();
    c.sims[1]!.setFault({ kind: 'hang', paths: 'execute' });
    const results = await callMany(c.client, 48, 8);
    expect(results.filter((r) => r.isError).map((r) => r.content[0]!.text)).toEqual([]);
    expect(results.every((r) => r.structuredContent!.node !== c.sims[1]!.name)).toBe(true);
    c.sims[1]!.setFault(null);
    await finish('node hangs after accepting', c, await recovered(c.client, { node: c.sims[1]!.name }));
  });

  it('a slow node', async () => {
    const c = await setUp();
    c.sims[2]!.setLatency(800);
    const results = await callMany(c.client, 60, 8);
    expect(results.filter((r) => r.isError)).toEqual([]);
    const onSlow = results.filter((r) => r.structuredContent!.node === c.sims[2]!.name).length;
    expect(onSlow).toBeLessThan(results.length / 3);
    c.sims[2]!.setLatency(10);
    await finish('slow node', c, await recovered(c.client, { node: c.sims[2]!.name }));
  });

  it('bursts of 5xx', async () => {
    const c = await setUp({ latencyMs: 5 });
    c.sims[0]!.setFault({ kind: 'status', status: 503, count: 15, paths: 'execute' });
    c.sims[1]!.setFault({ kind: 'status', status: 500, count: 10, paths: 'execute', body: '{"message":"boom"}' });
    const results = await callMany(c.client, 80, 8);
    expectClearErrors(results);
    expect(results.filter((r) => !r.isError).length).toBeGreaterThan(70);
    c.sims[2]!.setFault({ kind: 'status', status: 502, count: 30 });
    expectClearErrors(await callMany(c.client, 40, 8));
    for (const sim of c.sims) sim.setFault(null);
    await finish('5xx bursts', c, await recovered(c.client));
  });

  it('connections reset in the middle of an answer', async () => {
    const c = await setUp();
    for (const [index, sim] of c.sims.entries()) sim.setFault({ kind: 'reset', paths: 'execute', rate: 0.3, seed: index + 1 });
    const results = await callMany(c.client, 80, 8);
    expectClearErrors(results);
    expect(c.sims.reduce((sum, sim) => sum + sim.stats().faulted, 0)).toBeGreaterThan(0);
    expect(results.filter((r) => !r.isError).length).toBeGreaterThan(60);
    for (const sim of c.sims) sim.setFault(null);
    await finish('connection reset mid-answer', c, await recovered(c.client));
  });

  it('garbage and truncated JSON, on execute and on the runtime list', async () => {
    const c = await setUp({ config: { catalog: { ttl_ms: 300, refresh_ahead_ms: 0 } } });
    c.sims[0]!.setFault({ kind: 'garbage', paths: 'all', rate: 0.5, seed: 7 });
    c.sims[1]!.setFault({ kind: 'truncated', paths: 'all', rate: 0.5, seed: 8 });
    const results = await callMany(c.client, 80, 8);
    expectClearErrors(results);
    for (const r of results.filter((r) => r.isError)) expect(['node_fault', 'overload']).toContain(r._meta!['pistom/error'].class);
    expect(c.sims[0]!.stats().faulted + c.sims[1]!.stats().faulted).toBeGreaterThan(0);
    for (const sim of c.sims) sim.setFault(null);
    await finish('garbage and truncated JSON', c, await recovered(c.client));
  });

  it('an answer far larger than the cap', async () => {
    const c = await setUp({ config: { client: { ...TUNED.client, max_response_bytes: 64 * 1024 } } });
    c.sims[0]!.setFault({ kind: 'huge', bytes: 8 * 1024 * 1024, paths: 'execute', count: 6 });
    c.sims[1]!.setFault({ kind: 'huge', bytes: 1024 * 1024, paths: 'runtimes', count: 2 });
    const results = await callMany(c.client, 40, 6);
    expectClearErrors(results);
    expect(results.filter((r) => !r.isError).length).toBeGreaterThan(30);
    const tooLarge = results.filter((r) => r._meta?.['pistom/error']?.code === 'too_large');
    for (const r of tooLarge) expect(r.content[0]!.text).toMatch(/more than 65536 bytes/);
    for (const sim of c.sims) sim.setFault(null);
    await finish('answer far over the size cap', c, await recovered(c.client, { node: c.sims[0]!.name }));
  });

  it('a runtime that disappears from a node', async () => {
    const c = await setUp({ config: { catalog: { ttl_ms: 500, refresh_ahead_ms: 0 } } });
    await callMany(c.client, 9, 3);
    const [victim] = c.sims;
    victim!.setRuntimes(DEFAULT_RUNTIMES.filter((runtime) => runtime.language !== 'python'));
    const results = await callMany(c.client, 40, 6);
    expect(results.filter((r) => r.isError).map((r) => r.content[0]!.text)).toEqual([]);
    const later = await callMany(c.client, 20, 4);
    expect(later.every((r) => r.structuredContent!.node !== victim!.name)).toBe(true);
    victim!.setRuntimes('default');
    await finish('runtime disappears from a node', c, await recovered(c.client, { node: victim!.name }));
  });

  it('every node down, then back', async () => {
    const c = await setUp();
    await callMany(c.client, 6, 3);
    await Promise.all(c.sims.map((sim) => sim.stop()));
    const down = await callMany(c.client, 30, 6);
    for (const r of down) {
      expect(r.isError).toBe(true);
      expect(['node_fault', 'overload']).toContain(r._meta!['pistom/error'].class);
      expect(r.content[0]!.text).toMatch(/retry/i);
    }
    await Promise.all(c.sims.map((sim) => sim.start()));
    await finish('every node down, then back', c, await recovered(c.client));
  });
});
