/**
 * Frozen nodes (SIGSTOP or a stuck event loop): connections still complete, nothing is answered
 * until the node is thawed. In process (SimNode.freeze/thaw) and as a real stopped process
 * (test/helpers/sim-process.ts, the built CLI).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SimNode } from '../../src/sim/index.js';
import { spawnSim, type SimProcess } from '../helpers/sim-process.js';
import { connectRaw, get, prints, run, startNode, waitFor, within, type RawConnection } from './support.js';

/** How long a test watches for an answer that must not come. */
const QUIET_MS = 400;
const GET_ROOT = 'GET / HTTP/1.1\r\nHost: sim\r\n\r\n';

function portOf(url: string): number {
  return Number(new URL(url).port);
}

describe('SimNode.freeze() and thaw()', () => {
  let sim: SimNode;
  const connections: RawConnection[] = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await sim?.close();
  });

  it('accepts connections while frozen but answers nothing, not even GET /, until thawed', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.freeze();
    expect(sim.frozen).toBe(true);
    const conn = await connectRaw(sim.port);
    connections.push(conn);
    conn.socket.write(GET_ROOT);
    const later = get(`${sim.url}/api/v2/runtimes`);
    expect(await within(QUIET_MS, () => conn.received() !== '')).toBe(false);
    expect(conn.ended()).toBe(false);
    expect(sim.stats().received).toBe(0);

    sim.thaw();
    expect(sim.frozen).toBe(false);
    await waitFor(() => conn.received().includes('Piston v3.1.1'));
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect((await later).status).toBe(200);
    expect(sim.stats().received).toBe(2);
  });

  it('a job already running does not answer while frozen; it answers after thaw', async () => {
    sim = await startNode({ timeScale: 0, latencyMs: 50 });
    let answered = false;
    const job = run(sim.url, 'python', prints('late\n')).then((answer) => {
      answered = true;
      return answer;
    });
    await waitFor(() => sim.stats().inFlight === 1);
    sim.freeze();
    // well past the job's 50 ms: a thawed node would long have answered
    expect(await within(QUIET_MS, () => answered)).toBe(false);
    expect(sim.stats().executed).toBe(0);
    sim.thaw();
    expect((await job).json().run.stdout).toBe('late\n');
    expect(sim.stats().executed).toBe(1);
  });

  it('the admin API is frozen too', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.freeze();
    let answered = false;
    const stats = get(`${sim.url}/__sim/stats`).then((answer) => {
      answered = true;
      return answer;
    });
    expect(await within(QUIET_MS, () => answered)).toBe(false);
    sim.thaw();
    expect((await stats).status).toBe(200);
  });

  it('stop() of a frozen node drops what waited (a crash) and a restarted node is not frozen', async () => {
    sim = await startNode({ timeScale: 0 });
    sim.freeze();
    const waiting = get(`${sim.url}/`).then(
      () => 'answered',
      () => 'dropped',
    );
    const conn = await connectRaw(sim.port);
    connections.push(conn);
    conn.socket.write(GET_ROOT);
    await sim.stop();
    expect(await waiting).toBe('dropped');
    await waitFor(() => conn.ended());
    expect(sim.frozen).toBe(false);
    await sim.start();
    expect((await get(`${sim.url}/`)).status).toBe(200);
  });
});

describe('a frozen `pistom sim` process (SIGSTOP)', () => {
  let proc: SimProcess | undefined;
  const connections: RawConnection[] = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) c.close();
    await proc?.close();
    proc = undefined;
  });

  it('completes TCP connects but never answers GET / while frozen; answers after thaw', async () => {
    proc = await spawnSim({ flags: ['--time-scale', '0'] });
    expect(proc.nodes).toHaveLength(1);
    expect(proc.urls).toEqual([proc.url]);
    expect(proc.nodes[0]!.apiUrl).toBe(proc.url);
    expect((await get(`${proc.url}/`)).status).toBe(200);

    await proc.freeze();
    const conn = await connectRaw(portOf(proc.url)); // the kernel's listen backlog accepts it
    connections.push(conn);
    conn.socket.write(GET_ROOT);
    expect(await within(QUIET_MS, () => conn.received() !== '')).toBe(false);
    expect(conn.ended()).toBe(false);

    proc.thaw();
    await waitFor(() => conn.received().includes('Piston v3.1.1'));
    expect(conn.received()).toMatch(/^HTTP\/1\.1 200 OK/);
  });

  it('close() cleans up a frozen process: it thaws it, so the sim shuts down gracefully (exit 0)', async () => {
    proc = await spawnSim({ count: 2, flags: ['--time-scale', '0'] });
    expect(proc.urls).toHaveLength(2);
    await proc.freeze();
    await proc.close();
    expect({ code: proc.process.exitCode, signal: proc.process.signalCode }).toEqual({ code: 0, signal: null });
    expect(() => process.kill(proc!.pid, 0)).toThrow(/ESRCH/);
    await proc.close(); // idempotent
  });

  it('kill() is a crash: the node is gone at once', async () => {
    proc = await spawnSim({ flags: ['--time-scale', '0'] });
    await proc.kill();
    expect(proc.process.signalCode).toBe('SIGKILL');
    await expect(get(`${proc.url}/`)).rejects.toThrow();
  });
});
