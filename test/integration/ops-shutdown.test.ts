/**
 * Graceful shutdown of the built CLI: SIGTERM with calls running and queued (running ones finish,
 * queued ones get a clear error, exit 0), a call that outlives the grace period, and over stdio
 * both signals and the end of stdin.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimNode, type SimNode } from '../../src/sim/index.js';
import { connectHttp, writeConfig, type Connected, type ToolResult } from '../helpers/pistom.js';
import { errorOf, FAST_CAPS, getStatus, HELLO, scrape, SECRET, serveHttp, serveStdio, slowProgram, waitFor, type Child } from './ops-support.js';

/** Resolves once `count` calls run on the node; fails at once, with the answer, if `calls` settle first. */
async function running(sim: SimNode, count: number, calls: Array<Promise<ToolResult>>, child: Child): Promise<void> {
  const early = Promise.race(calls).then((result) => {
    throw new Error(`a call was answered before it was seen running: ${JSON.stringify(result)}\n${child.stderr()}`);
  });
  early.catch(() => undefined);
  await Promise.race([waitFor(() => sim.stats().inFlight === count, `${count} call(s) running on the node`, child), early]);
}

/** The node's own limits must let the long programs run. */
const SIM_CAPS = { run_timeout: 30_000, run_cpu_time: 30_000 };

describe('graceful shutdown', () => {
  let sim: SimNode | undefined;
  let child: Child | undefined;
  let client: Connected | undefined;
  afterEach(async () => {
    await client?.close().catch(() => undefined);
    await child?.close();
    await sim?.close();
    client = child = sim = undefined;
  });

  const configFor = (node: SimNode, extra: Record<string, unknown> = {}) =>
    writeConfig({ nodes: [{ name: 'only', url: node.url, max_concurrent: 2, caps: FAST_CAPS, headers: { Authorization: SECRET } }], admission: { max_queue: 10, max_wait_ms: 60_000 }, ...extra });

  it('on SIGTERM lets running calls finish, answers queued ones with a clear error, refuses new ones and exits 0', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const http = await serveHttp(['--config', configFor(sim), '--grace-ms', '60000']);
    child = http;
    client = await connectHttp(http.url);
    const runningCalls = [0, 1].map(() => client!.call('execute', slowProgram(5000)));
    await running(sim, 2, runningCalls, child);
    const queued = [0, 1, 2].map(() => client!.call('execute', HELLO));
    await waitFor(async () => (await scrape(http.url)).value('pistom_queued_calls') === 3, 'three calls queued', child);

    http.signal('SIGTERM');
    await waitFor(() => child!.stderr().includes('shutting down'), 'the shutdown to begin', child);
    // While the running calls finish, the replica says it is not ready and refuses new calls.
    expect(sim.stats().inFlight).toBe(2);
    const ready = await getStatus(`${http.url}/readyz`);
    expect(ready).toEqual({ status: 503, body: { status: 'shutting down' } });
    await expect(client.call('execute', HELLO)).rejects.toThrow(/shutting down/);
    // The refusal answers the request it refuses: its id comes back, with when to retry.
    const late = await fetch(`${http.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'late-7', method: 'tools/call', params: { name: 'execute', arguments: HELLO } }),
    });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(await late.json()).toMatchObject({ jsonrpc: '2.0', id: 'late-7', error: { message: expect.stringMatching(/shutting down; retry on another replica/) } });

    const queuedResults = await Promise.all(queued);
    for (const result of queuedResults) {
      expect(result.isError).toBe(true);
      expect(errorOf(result)).toMatchObject({ class: 'overload', code: 'shutting_down' });
      expect(result.content[0]!.text).toMatch(/shutting down.*retry on another replica/);
    }
    const finished: ToolResult[] = await Promise.all(runningCalls);
    for (const result of finished) {
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ node: 'only', run: { stdout: 'done\n', code: 0 } });
    }
    expect(await http.exited).toBe(0);
    expect(sim.stats().executed).toBe(2);
    expect(child.stderr()).toContain('"msg":"stopped"');
    expect(child.stderr()).not.toContain('kept the process alive');
    expect(child.stderr()).not.toContain(SECRET);
  });

  it('cancels a call that runs past the grace period with an error that says so, and still exits 0', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const http = await serveHttp(['--config', configFor(sim), '--grace-ms', '200']);
    child = http;
    client = await connectHttp(http.url);
    const call = client.call('execute', slowProgram(25_000));
    await running(sim, 1, [call], child);
    http.signal('SIGTERM');
    const result = await call;
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({ class: 'cancelled' });
    expect(result.content[0]!.text).toMatch(/shutting down.*grace period/);
    expect(await http.exited).toBe(0);
  });

  it('a second signal cancels the running calls at once and the process still exits 0', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const http = await serveHttp(['--config', configFor(sim), '--grace-ms', '600000']);
    child = http;
    client = await connectHttp(http.url);
    const call = client.call('execute', slowProgram(25_000));
    await running(sim, 1, [call], child);
    http.signal('SIGTERM');
    await waitFor(() => child!.stderr().includes('shutting down'), 'the shutdown to begin', child);
    http.signal('SIGINT');
    const result = await call;
    expect(errorOf(result)).toMatchObject({ class: 'cancelled' });
    expect(await http.exited).toBe(0);
  });

  it('over stdio, SIGTERM lets the running call answer and exits 0', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const stdio = await serveStdio(['--config', configFor(sim)]);
    child = stdio;
    const call = stdio.call('execute', slowProgram(3000));
    await running(sim, 1, [call], child);
    stdio.signal('SIGTERM');
    const result = await call;
    expect(child.stderr()).toMatch(/"running":1,"msg":"shutting down"/);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ run: { stdout: 'done\n' } });
    expect(await stdio.exited).toBe(0);
    expect(child.stderr()).not.toContain('kept the process alive');
  });

  it('over stdio, the end of stdin still answers the running call, then exits 0', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const stdio = await serveStdio(['--config', configFor(sim)]);
    child = stdio;
    const call = stdio.call('execute', slowProgram(3000));
    await running(sim, 1, [call], child);
    stdio.endInput();
    const result = await call;
    expect(child.stderr()).toMatch(/"reason":"stdin closed".*"running":1,"msg":"shutting down"/);
    expect(result.structuredContent).toMatchObject({ run: { stdout: 'done\n' } });
    expect(await stdio.exited).toBe(0);
  });

  it('over stdio, SIGINT with nothing running exits 0 at once', async () => {
    sim = await startSimNode({ caps: SIM_CAPS });
    const stdio = await serveStdio(['--config', configFor(sim)]);
    child = stdio;
    expect((await stdio.call('execute', HELLO)).isError).toBeFalsy();
    stdio.signal('SIGINT');
    expect(await stdio.exited).toBe(0);
    expect(child.stderr()).toContain('"reason":"SIGINT"');
  });
});
