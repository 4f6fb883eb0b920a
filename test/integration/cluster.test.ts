/**
 * The cluster under faults: three or more simulated nodes on loopback, pistom in process, the
 * SDK's real Client over Streamable HTTP. Every test checks every call was answered exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { load, startInProcess, type InProcess } from '../helpers/inprocess.js';
import { waitFor } from './ops-support.js';
import type { ToolResult } from '../helpers/pistom.js';
import { HELLO } from '../helpers/programs.js';

const FAST_CAPS = { run_timeout: 1000, compile_timeout: 1000, run_cpu_time: 1000, compile_cpu_time: 1000 };

function nodesOf(sims: SimNode[], extra: Record<string, unknown> = {}) {
  return sims.map((sim) => ({ name: sim.name, url: sim.url, caps: FAST_CAPS, ...extra }));
}

function answered(results: Array<PromiseSettledResult<ToolResult>>, count: number): ToolResult[] {
  expect(results).toHaveLength(count);
  const rejected = results.filter((r) => r.status === 'rejected');
  expect(rejected.map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  return results.map((r) => (r as PromiseFulfilledResult<ToolResult>).value);
}

const TUNED = {
  breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 500, rolling_window_ms: 5000 },
  health: { interval_ms: 60_000 },
  client: { answer_margin_ms: 300, connect_timeout_ms: 500 },
  retry: { deadline_ms: 15_000, max_attempts: 3, budget_min_per_s: 50 },
};

describe('cluster failover', () => {
  let sims: SimNode[] = [];
  let app: InProcess | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(sims.map((sim) => sim.close()));
    sims = [];
  });

  it('loses no call when a node is killed in the middle of a load', async () => {
    sims = await startSimCluster(3, { latencyMs: 30 });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    let killed = false;
    const results = await load(90, 12, () => client.call('execute', HELLO), (done) => {
      if (done === 20 && !killed) {
        killed = true;
        void sims[0]!.stop();
      }
    });
    const values = answered(results, 90);
    expect(values.filter((v) => v.isError).map((v) => v.content[0]!.text)).toEqual([]);
    expect(killed).toBe(true);
    const after = values.slice(40).map((v) => v.structuredContent!.node);
    expect(after.filter((node) => node === sims[0]!.name).length).toBeLessThan(after.length / 3);
  });

  it('moves traffic off a node that accepts connections and never answers, retrying the calls caught there', async () => {
    sims = await startSimCluster(3, { latencyMs: 10 });
    sims[1]!.setFault({ kind: 'hang', paths: 'execute' });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    const results = await load(40, 8, () => client.call('execute', HELLO));
    const values = answered(results, 40);
    expect(values.filter((v) => v.isError).map((v) => v.content[0]!.text)).toEqual([]);
    expect(values.every((v) => v.structuredContent!.node !== sims[1]!.name)).toBe(true);
    expect(values.some((v) => v.structuredContent!.attempts > 1)).toBe(true);
    const status = await client.call('cluster_status', {});
    const hung = status.structuredContent!.nodes.find((n: { name: string }) => n.name === sims[1]!.name);
    expect(hung.breaker).not.toBe('closed');
  });

  it('rides out bursts of 5xx from a node', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    sims[2]!.setFault({ kind: 'status', status: 503, count: 15, paths: 'execute' });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    const values = answered(await load(60, 6, () => client.call('execute', HELLO)), 60);
    expect(values.filter((v) => v.isError)).toEqual([]);
    expect(sims[2]!.stats().faulted).toBeGreaterThan(0);
  });

  it('takes a node back after it returns: open, then half-open, then closed and serving', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED, balancer: { strategy: 'round-robin' } });
    const client = await app.connect();
    await sims[0]!.stop();
    answered(await load(20, 4, () => client.call('execute', HELLO)), 20);
    const nodeState = async () => (await client.call('cluster_status', {})).structuredContent!.nodes.find((n: { name: string }) => n.name === sims[0]!.name);
    expect((await nodeState()).breaker).toBe('open');
    await sims[0]!.start();
    const received = sims[0]!.stats().received;
    // past reset_timeout_ms the breaker half-opens by itself
    await waitFor(() => app!.pistom.router.status().nodes.find((n) => n.name === sims[0]!.name)!.breaker === 'half_open', 'the breaker to half-open');
    expect((await nodeState()).breaker).toBe('half_open');
    const values = answered(await load(30, 3, () => client.call('execute', HELLO)), 30);
    expect(values.filter((v) => v.isError)).toEqual([]);
    expect((await nodeState()).breaker).toBe('closed');
    expect(sims[0]!.stats().received).toBeGreaterThan(received + 3);
  });

  it('opens the breaker of a node that fails several times in a row, even in a busy window', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED, breaker: { ...TUNED.breaker, volume_threshold: 1000, consecutive_failures: 3 }, balancer: { strategy: 'round-robin' } });
    const client = await app.connect();
    answered(await load(60, 6, () => client.call('execute', HELLO)), 60);
    await sims[1]!.stop();
    const values = answered(await load(30, 3, () => client.call('execute', HELLO)), 30);
    expect(values.filter((v) => v.isError)).toEqual([]);
    const node = app.pistom.router.status().nodes.find((n) => n.name === sims[1]!.name)!;
    expect(node.breaker).toBe('open');
    expect(node.faults).toBeLessThanOrEqual(4);
  });

  it('lets exactly one probe through a half-open breaker', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    await sims[0]!.stop();
    answered(await load(12, 3, () => client.call('execute', HELLO)), 12);
    await sims[0]!.start();
    sims[0]!.setLatency(400); // the probe stays in flight while the others are routed
    await waitFor(() => app!.pistom.router.status().nodes[0]!.breaker === 'half_open', 'the breaker to half-open');
    const before = sims[0]!.stats().received;
    const values = answered(await load(10, 10, () => client.call('execute', HELLO)), 10);
    expect(values.filter((v) => v.isError)).toEqual([]);
    expect(sims[0]!.stats().received - before).toBe(1);
    expect(app.pistom.router.status().nodes[0]!.breaker).toBe('closed');
  });

  it('sends calls over a cap only to the nodes whose caps allow them', async () => {
    sims = await startSimCluster(3, { caps: { run_timeout: 10_000 } });
    app = await startInProcess({ nodes: sims.map((sim, i) => ({ name: sim.name, url: sim.url, caps: { run_timeout: i === 1 ? 10_000 : 3000 } })), ...TUNED });
    const client = await app.connect();
    const values = answered(await load(12, 4, () => client.call('execute', { ...HELLO, run_timeout: 5000 })), 12);
    expect(new Set(values.map((v) => v.structuredContent!.node))).toEqual(new Set([sims[1]!.name]));
  });

  it('keeps a lower tier for when the first tier is down', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    app = await startInProcess({ nodes: sims.map((sim, i) => ({ name: sim.name, url: sim.url, caps: FAST_CAPS, tier: i === 2 ? 1 : 0 })), ...TUNED });
    const client = await app.connect();
    const normal = answered(await load(20, 4, () => client.call('execute', HELLO)), 20);
    expect(normal.every((v) => v.structuredContent!.node !== sims[2]!.name)).toBe(true);
    await Promise.all([sims[0]!.stop(), sims[1]!.stop()]);
    const spilled = answered(await load(20, 4, () => client.call('execute', HELLO)), 20);
    expect(spilled.filter((v) => v.isError)).toEqual([]);
    expect(spilled.slice(10).every((v) => v.structuredContent!.node === sims[2]!.name)).toBe(true);
  });

  it('holds a node to its rate limit', async () => {
    sims = await startSimCluster(1);
    app = await startInProcess({ nodes: [{ name: sims[0]!.name, url: sims[0]!.url, rate_limit: { requests: 3, interval_ms: 1000 } }], ...TUNED });
    const client = await app.connect();
    const started = performance.now();
    const finished: number[] = [];
    answered(await load(6, 6, async () => {
      const result = await client.call('execute', HELLO);
      finished.push(performance.now() - started);
      return result;
    }), 6);
    finished.sort((a, b) => a - b);
    // Only a lower bound, which a slow machine cannot break: the 4th call had to wait for the next interval.
    expect(finished[3]! - finished[0]!).toBeGreaterThan(500);
  });

  it('sends a runtime that only one node has to that node, every time', async () => {
    sims = await startSimCluster(3);
    sims[2]!.setRuntimes('all');
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    const values = answered(await load(20, 5, () => client.call('execute', { language: 'ruby', code: 'puts "hi"' })), 20);
    expect(values.filter((v) => v.isError).map((v) => v.content[0]!.text)).toEqual([]);
    expect(new Set(values.map((v) => v.structuredContent!.node))).toEqual(new Set([sims[2]!.name]));
  });

  it('refuses fast past the queue bounds and serves the rest', async () => {
    sims = await startSimCluster(3, { latencyMs: 300 });
    app = await startInProcess({ nodes: nodesOf(sims, { max_concurrent: 1 }), ...TUNED, admission: { max_queue: 3, max_wait_ms: 10_000 } });
    const client = await app.connect();
    const values = answered(await load(20, 20, () => client.call('execute', HELLO)), 20);
    const refused = values.filter((v) => v.isError);
    const served = values.filter((v) => !v.isError);
    expect(served.length).toBeGreaterThanOrEqual(6); // 3 running + 3 queued
    expect(refused.length).toBeGreaterThan(0);
    expect(served.length + refused.length).toBe(20);
    for (const r of refused) {
      expect(r._meta!['pistom/error']).toMatchObject({ class: 'overload', code: 'queue_full' });
      expect(r._meta!['pistom/error'].retry_after_ms).toBeGreaterThan(0);
      expect(r.content[0]!.text).toMatch(/overloaded.*retry in about/);
    }
  });

  it('refuses calls that waited past the queue deadline', async () => {
    sims = await startSimCluster(3, { latencyMs: 400 });
    app = await startInProcess({ nodes: nodesOf(sims, { max_concurrent: 1 }), ...TUNED, admission: { max_queue: 50, max_wait_ms: 150 } });
    const client = await app.connect();
    const values = answered(await load(12, 12, () => client.call('execute', HELLO)), 12);
    expect(values.filter((v) => v._meta?.['pistom/error']?.code === 'queue_timeout').length).toBeGreaterThan(0);
    expect(values.filter((v) => !v.isError).length).toBeGreaterThanOrEqual(3);
  });

  it('cancels a queued call and a running call, freeing their slots', async () => {
    sims = await startSimCluster(3, { latencyMs: 2000 });
    app = await startInProcess({ nodes: nodesOf(sims, { max_concurrent: 1 }), ...TUNED, admission: { max_queue: 10, max_wait_ms: 10_000 } });
    const client = await app.connect();
    const blockers = [0, 1].map(() => client.call('execute', HELLO));
    const running = new AbortController();
    const runningCall = client.call('execute', HELLO, { signal: running.signal });
    await waitFor(() => app!.pistom.router.status().queue.running === 3, 'three calls on the three slots');
    const queued = new AbortController();
    const queuedCall = client.call('execute', HELLO, { signal: queued.signal });
    await waitFor(() => app!.pistom.router.status().queue.waiting === 1, 'the fourth call to queue');
    queued.abort();
    running.abort();
    await expect(queuedCall).rejects.toThrow();
    await expect(runningCall).rejects.toThrow();
    await waitFor(() => app!.pistom.router.status().queue.running === 2, 'the cancelled call to free its slot');
    const status = app.pistom.router.status();
    expect(status.queue.waiting).toBe(0);
    expect(status.queue.running).toBe(2);
    expect(status.nodes.reduce((sum, node) => sum + node.in_flight, 0)).toBe(2);
    const done = await Promise.all(blockers);
    expect(done.every((d) => !d.isError)).toBe(true);
  });

  it('answers with a clear error, without hanging, when every node is down', async () => {
    sims = await startSimCluster(3);
    app = await startInProcess({ nodes: nodesOf(sims), ...TUNED });
    const client = await app.connect();
    answered(await load(3, 3, () => client.call('execute', HELLO)), 3);
    await Promise.all(sims.map((sim) => sim.stop()));
    const values = answered(await load(12, 4, () => client.call('execute', HELLO)), 12);
    for (const v of values) {
      expect(v.isError).toBe(true);
      expect(['node_fault', 'overload']).toContain(v._meta!['pistom/error'].class);
      expect(v.content[0]!.text).toMatch(/retry/i);
    }
  });
});
