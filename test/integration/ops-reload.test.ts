/**
 * Reload on SIGHUP, through the built CLI: a new config adds a node, removes one and changes one
 * while calls run (none is lost, the removed node gets no more traffic); a broken file is refused
 * with its errors logged and the old config stays in force.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { load } from '../helpers/inprocess.js';
import { connectHttp, writeConfig, type Connected, type ToolResult } from '../helpers/pistom.js';
import { FAST_CAPS, HELLO, scrape, SECRET, serveHttp, waitFor, type HttpChild } from './ops-support.js';

const TUNED = { health: { interval_ms: 60_000 }, retry: { budget_min_per_s: 50 } };

function nodeOf(sim: SimNode, extra: Record<string, unknown> = {}) {
  return { name: sim.name, url: sim.url, caps: FAST_CAPS, max_concurrent: 4, headers: { 'X-Api-Key': SECRET }, ...extra };
}

function fulfilled(results: Array<PromiseSettledResult<ToolResult>>): ToolResult[] {
  expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  return results.map((r) => (r as PromiseFulfilledResult<ToolResult>).value);
}

async function statusNodes(client: Connected): Promise<Array<{ name: string; max_concurrent: number }>> {
  return (await client.call('cluster_status', {})).structuredContent!.nodes;
}

describe('reload on SIGHUP', () => {
  let sims: SimNode[] = [];
  let child: HttpChild | undefined;
  let client: Connected | undefined;
  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await child?.close();
    await Promise.all(sims.map((sim) => sim.close()));
    sims = [];
    client = child = undefined;
  });

  it('adds, removes and changes nodes under load without losing a call', async () => {
    sims = await startSimCluster(3, { latencyMs: 20 });
    const [a, b, c] = sims as [SimNode, SimNode, SimNode];
    const file = writeConfig({ nodes: [nodeOf(a), nodeOf(b)], ...TUNED });
    child = await serveHttp(['--config', file]);
    client = await connectHttp(child.url);

    let reloaded = false;
    const results = await load(160, 8, () => client!.call('execute', HELLO), (done) => {
      if (done === 40 && !reloaded) {
        reloaded = true;
        writeFileSync(file, JSON.stringify({ nodes: [nodeOf(b, { max_concurrent: 6 }), nodeOf(c)], ...TUNED }));
        child!.signal('SIGHUP');
      }
    });
    const values = fulfilled(results);
    expect(values).toHaveLength(160);
    expect(values.filter((v) => v.isError).map((v) => v.content[0]!.text)).toEqual([]);
    expect(reloaded).toBe(true);
    // The reload landed while the load ran: the added node served part of it.
    expect(values.some((v) => v.structuredContent!.node === 'sim-3')).toBe(true);
    await waitFor(() => child!.stderr().includes('configuration reloaded'), 'the reload to be applied', child);
    expect(child.stderr()).toMatch(/"added":\["sim-3"\],"removed":\["sim-1"\],"changed":\["sim-2"\]/);

    // From now on the removed node gets nothing, the added one takes its share.
    const aBefore = a.stats().received;
    const cBefore = c.stats().executed;
    const after = fulfilled(await load(30, 6, () => client!.call('execute', HELLO)));
    expect(after.filter((v) => v.isError)).toEqual([]);
    expect(new Set(after.map((v) => v.structuredContent!.node))).toEqual(new Set(['sim-2', 'sim-3']));
    expect(a.stats().received).toBe(aBefore);
    expect(c.stats().executed).toBeGreaterThan(cBefore);
    expect(await statusNodes(client)).toMatchObject([
      { name: 'sim-2', max_concurrent: 6 },
      { name: 'sim-3', max_concurrent: 4 },
    ]);

    // Every call the nodes ran was answered exactly once.
    const executed = sims.reduce((sum, sim) => sum + sim.stats().executed, 0);
    expect(executed).toBe(190);
    const metrics = await scrape(child.url);
    expect(metrics.value('pistom_config_reloads_total', { result: 'ok' })).toBe(1);
    expect(metrics.value('pistom_execute_calls_total', { outcome: 'ok' })).toBe(190);
    expect(metrics.series('pistom_node_healthy').map((labels) => labels.node)).toEqual(['sim-2', 'sim-3']);
    expect(child.stderr() + metrics.text).not.toContain(SECRET);
  });

  it('refuses a broken file, logs every wrong field and keeps the old configuration', async () => {
    sims = await startSimCluster(2);
    const [a, b] = sims as [SimNode, SimNode];
    const file = writeConfig({ nodes: [nodeOf(a), nodeOf(b)], ...TUNED });
    child = await serveHttp(['--config', file]);
    client = await connectHttp(child.url);
    expect((await client.call('execute', HELLO)).isError).toBeFalsy();

    writeFileSync(file, JSON.stringify({ nodes: [{ name: 'x', url: 'ftp://nowhere', headers: { Authorization: SECRET } }], balancer: { strategy: 'fastest' }, admission: { max_queue: -1 } }));
    child.signal('SIGHUP');
    await waitFor(() => child!.stderr().includes('reload refused'), 'the reload to be refused', child);
    const refusal = child.stderr().split('\n').find((line) => line.includes('reload refused'))!;
    expect(refusal).toContain('nodes[0].url');
    expect(refusal).toContain('balancer.strategy');
    expect(refusal).toContain('admission.max_queue');

    writeFileSync(file, '{"nodes": [');
    child.signal('SIGHUP');
    await waitFor(() => child!.stderr().split('\n').filter((line) => line.includes('reload refused')).length === 2, 'the second refusal', child);
    expect(child.stderr()).toContain('not valid JSON');

    // The old nodes still serve.
    const values = fulfilled(await load(10, 3, () => client!.call('execute', HELLO)));
    expect(values.filter((v) => v.isError)).toEqual([]);
    expect((await statusNodes(client)).map((node) => node.name)).toEqual([a.name, b.name]);
    const metrics = await scrape(child.url);
    expect(metrics.value('pistom_config_reloads_total', { result: 'refused' })).toBe(2);
    expect(metrics.value('pistom_config_reloads_total', { result: 'ok' })).toBe(0);
    expect(child.stderr()).not.toContain(SECRET);
  });
});
