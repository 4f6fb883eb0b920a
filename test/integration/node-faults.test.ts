/**
 * What real nodes do that the simulator used to spare us: a frozen node (SIGSTOP), a node that
 * trickles its answer, a node that reflects the router's secret, a node URL with a base path or a
 * wrong one, a half-open probe the client cancels, and readiness before the first health round.
 * Every call is checked to get exactly one answer.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, startSimNode, type SimNode } from '../../src/sim/index.js';
import { load, startInProcess, type InProcess } from '../helpers/inprocess.js';
import { spawnSim, type SimProcess } from '../helpers/sim-process.js';
import { CLI, writeConfig, type ToolResult } from '../helpers/pistom.js';
import { errorOf, getStatus, scrape, serveHttp, waitFor, type HttpChild } from './ops-support.js';
import { connectHttp } from '../helpers/pistom.js';
import { HELLO } from '../helpers/programs.js';

const CAPS = { run_timeout: 1000, compile_timeout: 1000, run_cpu_time: 1000, compile_cpu_time: 1000 };
const SECRET = 'Bearer node-secret-4c1d9e7b';

/** The built CLI, run to its end without blocking this process (in-process nodes must keep answering). */
function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

function allAnswered(results: Array<PromiseSettledResult<ToolResult>>, count: number): ToolResult[] {
  expect(results).toHaveLength(count);
  expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  return results.map((r) => (r as PromiseFulfilledResult<ToolResult>).value);
}

describe('node faults that real Piston nodes show', () => {
  let sims: SimNode[] = [];
  let procs: SimProcess[] = [];
  let app: InProcess | undefined;
  let child: HttpChild | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await child?.close();
    child = undefined;
    await Promise.all([...sims.map((sim) => sim.close()), ...procs.map((proc) => proc.close())]);
    sims = [];
    procs = [];
  });

  it('a frozen node (SIGSTOP) under closed-loop load: its calls move elsewhere, no client error, the node is ejected as unresponsive and comes back when thawed', async () => {
    procs = await Promise.all([0, 1, 2].map(() => spawnSim({ flags: ['--latency', '20'] })));
    app = await startInProcess({
      nodes: procs.map((proc, i) => ({ name: `p${i}`, url: proc.url, caps: CAPS, max_concurrent: 4 })),
      health: { interval_ms: 60_000, probe_after_min_ms: 100, probe_after_max_ms: 400, probe_timeout_ms: 300 },
      client: { answer_margin_ms: 20_000 }, // the per-call answer timeout alone would take 22 s
      retry: { deadline_ms: 60_000 },
    });
    const client = await app.connect();
    let frozen = false;
    const results = allAnswered(
      await load(240, 8, () => client.call('execute', HELLO), (done) => {
        if (done === 40 && !frozen) {
          frozen = true;
          void procs[1]!.freeze();
        }
      }),
      240,
    );
    expect(frozen).toBe(true);
    expect(results.filter((r) => r.isError).map((r) => r.content[0]?.text)).toEqual([]);
    const moved = results.filter((r) => r.structuredContent!.attempts > 1);
    expect(moved.length).toBeGreaterThan(0);
    const status = app.pistom.router.status().nodes.find((node) => node.name === 'p1')!;
    expect(status.ejected).toMatchObject({ reason: 'unresponsive' });
    expect(status.ejected!.by).toMatch(/^\d+@/);
    // Later calls avoid it entirely.
    expect(results.slice(-100).every((r) => r.structuredContent!.node !== 'p1')).toBe(true);
    procs[1]!.thaw();
    await waitFor(() => app!.pistom.router.status().nodes.find((node) => node.name === 'p1')!.ejected === undefined, 'the thawed node to be readmitted');
    const after = allAnswered(await load(30, 3, () => client.call('execute', HELLO)), 30);
    expect(after.filter((r) => r.isError)).toEqual([]);
  });

  it('a long run on a node that still answers its probe is never cut short', async () => {
    sims = await startSimCluster(2, { caps: { run_timeout: 10_000 } });
    app = await startInProcess({
      nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: { ...CAPS, run_timeout: 5000 } })),
      health: { interval_ms: 60_000, probe_after_min_ms: 50, probe_after_max_ms: 100, probe_timeout_ms: 300 },
    });
    const client = await app.connect();
    const result = await client.call('execute', { language: 'python', code: '# pistom-sim: {"wall_ms": 1500, "stdout": "done\\n"}\nprint("done")', run_timeout: 5000 });
    expect(result.isError ? result.content[0]?.text : undefined).toBeUndefined();
    expect(result.structuredContent!.attempts).toBe(1);
    expect(result.structuredContent!.run.stdout).toBe('done\n');
    expect(app.pistom.router.status().nodes.every((node) => node.ejected === undefined)).toBe(true);
  });

  it('a node that drip-feeds its answer: the call is answered within its deadline, by another node', async () => {
    sims = await startSimCluster(2);
    sims[0]!.setFault({ kind: 'drip', interval_ms: 500, paths: 'execute' });
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), client: { answer_margin_ms: 300 }, balancer: { strategy: 'round-robin' }, health: { interval_ms: 60_000 } });
    const client = await app.connect();
    const results = allAnswered(await load(4, 2, () => client.call('execute', HELLO)), 4);
    expect(results.filter((r) => r.isError)).toEqual([]);
    expect(results.every((r) => r.structuredContent!.node === sims[1]!.name)).toBe(true);
    expect(app.pistom.router.status().nodes[0]!.last_error?.message).toMatch(/did not answer in time/);
  });

  it('a drip-feeding node alone: the call ends with a timeout error at its deadline, not never', async () => {
    sims = [await startSimNode({ name: 'slow' })];
    sims[0]!.setFault({ kind: 'drip', interval_ms: 500, paths: 'execute' });
    app = await startInProcess({ nodes: [{ name: 'slow', url: sims[0]!.url, caps: CAPS }], client: { answer_margin_ms: 300 }, retry: { deadline_ms: 3000 }, health: { interval_ms: 60_000 } });
    const client = await app.connect();
    const result = await client.call('execute', HELLO);
    expect(errorOf(result)).toMatchObject({ class: 'node_fault' });
    expect(result.content[0]!.text).toMatch(/did not answer in time/);
  });

  it("a node that reflects the router's headers: the secret reaches neither the client, nor the logs, nor the status", async () => {
    sims = await startSimCluster(1);
    sims[0]!.setFault({ kind: 'reflect', paths: 'execute' });
    const file = writeConfig({ nodes: [{ name: 'mirror', url: sims[0]!.url, headers: { Authorization: SECRET } }] });
    child = await serveHttp(['--config', file], { PISTOM_LOG_LEVEL: 'debug' });
    const client = await connectHttp(child.url);
    try {
      const result = await client.call('execute', HELLO);
      expect(errorOf(result)?.class).toBe('request_error');
      expect(result.content[0]!.text).toContain('[redacted]');
      const status = await client.call('cluster_status', {});
      const everything = JSON.stringify(result) + JSON.stringify(status) + child.stderr() + (await scrape(child.url)).text;
      expect(everything).not.toContain('node-secret-4c1d9e7b');
    } finally {
      await client.close();
    }
  });

  it('a duplicate node URL holding a password: the password is in no config error (check, serve, reload)', async () => {
    const leaky = { nodes: [{ url: 'http://user:PASSWORD-91x@host.test:99999' }, { url: 'http://user:PASSWORD-91x@host.test:99999' }] };
    const file = writeConfig(leaky);
    for (const command of ['check', 'serve']) {
      const run = await runCli([command, '--config', file, ...(command === 'serve' ? ['--http', '127.0.0.1:0'] : [])]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/duplicate node name|must be an http/);
      expect(run.stdout + run.stderr).not.toContain('PASSWORD-91x');
    }
    sims = await startSimCluster(1);
    const good = writeConfig({ nodes: [{ url: sims[0]!.url }] });
    child = await serveHttp(['--config', good]);
    writeFileSync(good, JSON.stringify(leaky));
    child.signal('SIGHUP');
    await waitFor(() => child!.stderr().includes('reload refused'), 'the reload to be refused', child);
    expect(child.stderr()).not.toContain('PASSWORD-91x');
  });

  it('a cancelled half-open probe leaves the breaker half-open; the next probe closes it', async () => {
    sims = await startSimCluster(2, { latencyMs: 5 });
    app = await startInProcess({
      nodes: sims.map((sim, i) => ({ name: sim.name, url: sim.url, caps: CAPS, tier: i })),
      breaker: { volume_threshold: 2, reset_timeout_ms: 300, consecutive_failures: 2 },
      health: { interval_ms: 60_000 },
    });
    const client = await app.connect();
    await sims[0]!.stop();
    allAnswered(await load(4, 1, () => client.call('execute', HELLO)), 4);
    const state = () => app!.pistom.router.status().nodes[0]!;
    expect(state().breaker).toBe('open');
    await sims[0]!.start();
    sims[0]!.setLatency(3000); // the probe stays in flight until we cancel it
    await waitFor(() => state().breaker === 'half_open', 'the breaker to half-open');
    const cancel = new AbortController();
    const probe = client.call('execute', HELLO, { signal: cancel.signal }).catch((error: unknown) => error);
    await waitFor(() => state().in_flight === 1, 'the probe to be on the wire');
    cancel.abort();
    await probe;
    await waitFor(() => state().in_flight === 0, 'the probe attempt to end');
    expect(state().breaker).toBe('half_open');
    sims[0]!.setLatency(5);
    const next = await client.call('execute', HELLO);
    expect(next.structuredContent!.node).toBe(sims[0]!.name);
    expect(state().breaker).toBe('closed');
  });

  it('/readyz is not ready before the first health round, nor when it found no node that can serve', async () => {
    sims = await startSimCluster(1);
    sims[0]!.setFault({ kind: 'hang', paths: 'runtimes' });
    const file = writeConfig({ nodes: [{ name: 'n', url: sims[0]!.url }], health: { interval_ms: 500, timeout_ms: 400 } });
    child = await serveHttp(['--config', file]);
    expect((await getStatus(`${child.url}/readyz`)).status).toBe(503);
    await waitFor(async () => (await scrape(child!.url)).value('pistom_health_checks_total', { result: 'failed' }) >= 1, 'a failed health round', child);
    expect((await getStatus(`${child.url}/readyz`)).status).toBe(503);
    sims[0]!.setFault(null);
    await waitFor(async () => (await getStatus(`${child!.url}/readyz`)).status === 200, 'readiness once a node answers', child);
  });

  it('a hostile node with 40,000 runtimes: its list is refused as not Piston\'s, list_runtimes stays small, calls go to the others', async () => {
    sims = await startSimCluster(2);
    sims[0]!.setRuntimes(Array.from({ length: 40_000 }, (_, i) => ({ language: `lang${i}`, version: '1.0.0', aliases: [`l${i}`] })));
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), health: { interval_ms: 60_000 }, client: { max_response_bytes: 16 * 1024 * 1024 } });
    const client = await app.connect();
    const list = await client.call('list_runtimes', {});
    expect(JSON.stringify(list).length).toBeLessThan(20_000);
    expect(list.structuredContent!.runtimes.every((runtime: { nodes: string[] }) => !runtime.nodes.includes(sims[0]!.name))).toBe(true);
    const unknown = await client.call('execute', { language: 'lang12345', code: 'x' });
    expect(errorOf(unknown)).toMatchObject({ class: 'request_error', code: 'unknown_language' });
    expect(app.pistom.router.status().nodes[0]!.ejected).toMatchObject({ reason: 'misconfigured', detail: expect.stringContaining('40000 runtimes, more than the 1000 allowed') });
    expect((await client.call('execute', HELLO)).structuredContent!.node).toBe(sims[1]!.name);
  });

  it("a node whose own cap is below pistom's configured cap: the refusal names the node and the setting to correct", async () => {
    sims = [await startSimNode({ name: 'strict' })];
    app = await startInProcess({ nodes: [{ name: 'strict', url: sims[0]!.url, caps: { run_timeout: 10_000 } }], health: { interval_ms: 60_000 } });
    const client = await app.connect();
    const result = await client.call('execute', { ...HELLO, run_timeout: 5000 });
    expect(errorOf(result)).toMatchObject({ class: 'request_error', code: 'rejected_by_node' });
    expect(result.content[0]!.text).toContain('node strict refused the request: run_timeout cannot exceed the configured limit of 3000');
    expect(result.content[0]!.text).toContain('set its caps.run_timeout to 3000');
  });

  it('a node addressed by its API base path (the public API form) serves; its root does not, and says it is configuration', async () => {
    sims = [await startSimNode({ name: 'public', basePath: '/api/v2/piston' })];
    app = await startInProcess({ nodes: [{ name: 'public', url: sims[0]!.apiUrl, caps: CAPS }, { name: 'wrong', url: sims[0]!.url, caps: CAPS }], health: { interval_ms: 60_000 }, balancer: { strategy: 'round-robin' } });
    const client = await app.connect();
    const results = allAnswered(await load(6, 2, () => client.call('execute', HELLO)), 6);
    expect(results.filter((r) => r.isError)).toEqual([]);
    expect(results.every((r) => r.structuredContent!.node === 'public')).toBe(true);
    const wrong = app.pistom.router.status().nodes.find((node) => node.name === 'wrong')!;
    expect(wrong.ejected).toMatchObject({ reason: 'misconfigured', detail: expect.stringContaining(`${sims[0]!.url}/api/v2/runtimes`) });
  });

  it('a node URL that answers 404: node_misconfigured, said plainly in the error, the status, pistom check and the logs', async () => {
    sims = [await startSimNode({ name: 'public', basePath: '/api/v2/piston' })];
    const file = writeConfig({ nodes: [{ name: 'wrong', url: sims[0]!.url }] });
    child = await serveHttp(['--config', file]);
    const client = await connectHttp(child.url);
    try {
      const result = await client.call('execute', HELLO);
      expect(errorOf(result)).toMatchObject({ class: 'node_fault', code: 'node_misconfigured' });
      expect(result.content[0]!.text).toMatch(/HTTP 404 for http:\S+\/api\/v2\/(runtimes|execute): that URL is not a Piston API/);
      expect(result.content[0]!.text).not.toMatch(/retry in a few seconds/);
      const status = (await client.call('cluster_status', {})).structuredContent!;
      expect(status.nodes[0].ejected).toMatchObject({ reason: 'misconfigured' });
      expect(child.stderr()).toMatch(/misconfigured/);
    } finally {
      await client.close();
    }
    const check = await runCli(['check', '--config', file]);
    expect(check.status).toBe(1);
    expect(check.stdout).toContain(`node wrong answered HTTP 404 for ${sims[0]!.url}/api/v2/runtimes: that URL is not a Piston API`);
    const right = await runCli(['check', '--backend', sims[0]!.apiUrl]);
    expect(right.status).toBe(0);
  });
});
