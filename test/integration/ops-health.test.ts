/**
 * /healthz and /readyz of the built CLI: the process lives as long as it runs; readiness flips to
 * 503 when every node is down and back to 200 when one returns, in step with the metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { writeConfig } from '../helpers/pistom.js';
import { FAST_CAPS, getStatus, scrape, serveHttp, waitFor, type HttpChild } from './ops-support.js';

describe('health and readiness', () => {
  let sims: SimNode[] = [];
  let child: HttpChild | undefined;
  afterEach(async () => {
    await child?.close();
    await Promise.all(sims.map((sim) => sim.close()));
    sims = [];
    child = undefined;
  });

  it('reports not ready while every node is down and ready again once one is back', async () => {
    sims = await startSimCluster(2);
    const file = writeConfig({
      nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: FAST_CAPS })),
      health: { interval_ms: 100, timeout_ms: 1000, unhealthy_threshold: 2, healthy_threshold: 1 },
      // Scrapes right after each change: no cached scrape.
      metrics: { cache_ms: 0 },
    });
    const http = await serveHttp(['--config', file]);
    child = http;
    const ready = () => getStatus(`${http.url}/readyz`);
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });

    await sims[0]!.stop();
    await waitFor(async () => (await scrape(http.url)).value('pistom_node_healthy', { node: sims[0]!.name }) === 0, 'the first node to be marked down', child);
    expect((await ready()).status).toBe(200); // one node can still serve

    await sims[1]!.stop();
    const down = await waitFor(async () => {
      const answer = await ready();
      return answer.status === 503 && answer.body;
    }, 'readiness to turn false', child);
    expect(down).toEqual({ status: 'no node can serve' });
    expect(await getStatus(`${http.url}/healthz`)).toEqual({ status: 200, body: { status: 'ok' } });
    const metrics = await scrape(http.url);
    expect(metrics.value('pistom_node_healthy')).toBe(0);
    expect(metrics.value('pistom_health_checks_total', { result: 'failed' })).toBeGreaterThanOrEqual(4);
    expect(child.stderr()).toContain('node failed its health checks');

    await sims[1]!.start();
    await waitFor(async () => (await ready()).status === 200, 'readiness to turn true again', child);
    expect((await scrape(http.url)).value('pistom_node_healthy', { node: sims[1]!.name })).toBe(1);
    expect(child.stderr()).toContain('node is healthy again');
  });
});
