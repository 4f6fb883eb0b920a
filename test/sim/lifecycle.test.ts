/** stop()/start() like a crash and a restart, close() releasing every timer and socket, clusters. */
import { describe, expect, it } from 'vitest';
import { startSimCluster } from '../../src/sim/index.js';
import { get, post, prints, run, startNode, waitFor } from './support.js';

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

describe('sim lifecycle', () => {
  it('stop() drops in-flight and queued jobs and refuses connections; start() listens again on the same port', async () => {
    const sim = await startNode({ slots: 1, latencyMs: 10_000, timeScale: 0 });
    const port = sim.port;
    const inFlight = run(sim.url, 'python', prints('1\n')).then(() => 'answered', () => 'failed');
    const queued = run(sim.url, 'python', prints('2\n')).then(() => 'answered', () => 'failed');
    await waitFor(() => sim.stats().inFlight === 1 && sim.stats().queued === 1);
    await sim.stop();
    expect(await inFlight).toBe('failed');
    expect(await queued).toBe('failed');
    await expect(get(`${sim.url}/`)).rejects.toThrow();
    expect(sim.stats()).toMatchObject({ inFlight: 0, queued: 0 });

    await sim.start();
    expect(sim.port).toBe(port);
    sim.setLatency(0);
    const answer = await run(sim.url, 'python', prints('back\n'));
    expect(answer.json().run.stdout).toBe('back\n');
    await sim.close();
  });

  it('close() releases timers, sockets and hanging requests, and is idempotent', async () => {
    const before = handles();
    const sim = await startNode({ latencyMs: 60_000, timeScale: 0 });
    const slow = run(sim.url, 'python', prints('1\n')).catch(() => 'failed');
    sim.setFault({ kind: 'hang', paths: 'runtimes' });
    const hung = get(`${sim.url}/api/v2/runtimes`).catch(() => 'failed');
    await waitFor(() => sim.stats().inFlight === 1 && sim.stats().faulted === 1);
    await sim.close();
    await sim.close();
    expect(await slow).toBe('failed');
    expect(await hung).toBe('failed');
    await new Promise((resolve) => setImmediate(resolve));
    const after = handles();
    expect(after.Timeout ?? 0).toBeLessThanOrEqual(before.Timeout ?? 0);
    expect(after.TCPServerWrap ?? 0).toBeLessThanOrEqual(before.TCPServerWrap ?? 0);
    expect(after.TCPSocketWrap ?? 0).toBeLessThanOrEqual(before.TCPSocketWrap ?? 0);
    await expect(sim.start()).rejects.toThrow(/closed/);
  });

  it('POST /__sim/restart stops the node and brings it back after downMs', async () => {
    const sim = await startNode({ timeScale: 0 });
    expect((await post(`${sim.url}/__sim/restart`, { downMs: 100 })).status).toBe(200);
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++) {
      refused = await get(`${sim.url}/`).then(() => false, () => true);
      if (!refused) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(refused).toBe(true);
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      back = await get(`${sim.url}/`).then((r) => r.status === 200, () => false);
      if (!back) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(back).toBe(true);
    await sim.close();
  });

  it('startSimCluster names nodes sim-1..sim-N on distinct ports', async () => {
    const nodes = await startSimCluster(3, { timeScale: 0 });
    try {
      expect(nodes.map((n) => n.name)).toEqual(['sim-1', 'sim-2', 'sim-3']);
      expect(new Set(nodes.map((n) => n.port)).size).toBe(3);
      for (const node of nodes) expect(JSON.parse((await get(`${node.url}/`)).text)).toEqual({ message: 'Piston v3.1.1' });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  });

  it('a node without a name is called sim-<port>', async () => {
    const sim = await startNode();
    expect(sim.name).toBe(`sim-${sim.port}`);
    expect(sim.url).toBe(`http://127.0.0.1:${sim.port}`);
    await sim.close();
  });
});
