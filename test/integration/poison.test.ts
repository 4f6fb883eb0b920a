/**
 * Poisoned requests: requests that make every healthy node fail (XX for a memory limit below the
 * sandbox's floor, a 500 for a name Piston refuses) must not count against the nodes. A flood of
 * them next to a well-behaved client leaves that client untouched and every breaker closed; a
 * node that fails requests the others serve is still found faulty. Each call is checked to get
 * exactly one answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { load, startInProcess, type InProcess } from '../helpers/inprocess.js';
import type { ToolResult } from '../helpers/pistom.js';
import { HELLO } from '../helpers/programs.js';
import { MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';

const CAPS = { run_timeout: 3000, compile_timeout: 3000, run_cpu_time: 3000, compile_cpu_time: 3000 };
const TUNED = {
  breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 5_000, rolling_window_ms: 10_000, consecutive_failures: 3 },
  health: { interval_ms: 60_000 },
  retry: { deadline_ms: 15_000, max_attempts: 3, budget_min_per_s: 5, budget_ratio: 0.2 },
};

function errorOf(result: ToolResult): { class: string; code: string; message: string } | undefined {
  return result._meta?.['pistom/error'];
}

/** Runs `count` calls of `call`, `concurrency` at a time, and checks that each was answered once. */
async function answeredOnce(count: number, concurrency: number, call: (i: number) => Promise<ToolResult>): Promise<ToolResult[]> {
  let answers = 0;
  const results = await load(count, concurrency, async (i) => {
    const result = await call(i);
    answers++;
    return result;
  });
  expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
  expect(answers).toBe(count);
  return results.map((r) => (r as PromiseFulfilledResult<ToolResult>).value);
}

/** A JSON-RPC batch of tools/call over raw HTTP: every id must come back exactly once. */
async function batch(url: string, calls: Array<Record<string, unknown>>, firstId: number): Promise<Array<{ id: number; result: ToolResult }>> {
  const messages = calls.map((args, i) => ({ jsonrpc: '2.0', id: firstId + i, method: 'tools/call', params: { name: 'execute', arguments: args } }));
  const response = await rawRequest(`${url}/mcp`, { headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2025-06-18' }, body: JSON.stringify(messages) });
  expect(response.status).toBe(200);
  const answers = response.json() as Array<{ id: number; result: ToolResult }>;
  expect(answers.map((a) => a.id).sort((a, b) => a - b)).toEqual(messages.map((m) => m.id));
  return answers;
}

describe('poisoned requests', () => {
  let sims: SimNode[] = [];
  let app: InProcess | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(sims.map((sim) => sim.close()));
    sims = [];
  });

  it('a flood of 100 poison calls next to a well-behaved client: 0 errors for that client, every breaker still closed', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), ...TUNED });
    const good = await app.connect();
    const bad = await app.connect();
    const poison = (i: number): Record<string, unknown> => {
      switch (i % 4) {
        case 0: // below the sandbox's cgroup floor: XX on every node; varied, so that no two bodies are alike
          return { language: 'python', code: `print(${i})`, run_memory_limit: 3000 };
        case 1: // the same body again and again: refused from memory after the first verdict
          return { language: 'c', code: 'int main(){return 0;}', compile_memory_limit: 4096 };
        case 2:
          return { language: 'python', files: [{ name: '..x', content: 'print(1)' }] };
        default:
          return { language: 'python', files: [{ name: 'main.py', content: 'print(1)' }, { name: i % 8 === 3 ? '...' : '..\u2215x', content: '' }] };
      }
    };
    let stop = false;
    const wellBehaved = (async () => {
      const results: ToolResult[] = [];
      while (!stop) results.push(await good.call('execute', HELLO));
      return results;
    })();
    const single = await answeredOnce(60, 6, (i) => bad.call('execute', poison(i)));
    const batched: ToolResult[] = [];
    for (let b = 0; b < 4; b++) batched.push(...(await batch(app.url, Array.from({ length: 10 }, (_, i) => poison(60 + b * 10 + i)), 1000 + b * 10)).map((a) => a.result));
    stop = true;
    const goodResults = await wellBehaved;

    expect(goodResults.length).toBeGreaterThan(0);
    expect(goodResults.filter((r) => r.isError).map((r) => r.content[0]?.text)).toEqual([]);
    const poisoned = [...single, ...batched];
    expect(poisoned).toHaveLength(100);
    for (const result of poisoned) {
      expect(result.isError).toBe(true);
      expect(errorOf(result)?.class).toBe('request_error');
      expect(['request_rejected_by_nodes', 'invalid_file_name']).toContain(errorOf(result)?.code);
    }
    const memory = poisoned.filter((r) => errorOf(r)?.code === 'request_rejected_by_nodes');
    expect(memory.length).toBe(50);
    expect(memory[0]!.content[0]!.text).toMatch(/Cannot set \/sys\/fs\/cgroup\/memory.*memory limits of a few KB/s);
    const status = app.pistom.router.status();
    expect(status.nodes.map((node) => [node.name, node.breaker, node.faults])).toEqual(sims.map((sim) => [sim.name, 'closed', 0]));
    // Known poison is refused without being sent again: far fewer attempts than two per call.
    const executed = sims.reduce((sum, sim) => sum + sim.stats().received, 0);
    expect(executed).toBeLessThan(2 * 50 + goodResults.length + 10);
  });

  it('finds poison from behaviour, not from a list: any failure that a request causes on every node', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    // Every node answers 500 to requests carrying this marker, and serves the rest.
    for (const sim of sims) sim.setFault({ kind: 'status', status: 500, match: 'TRIPWIRE', paths: 'execute' });
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), ...TUNED });
    const client = await app.connect();
    const results = await answeredOnce(30, 3, (i) => client.call('execute', i % 3 === 0 ? HELLO : { language: 'python', code: `# TRIPWIRE ${i}\nprint(1)` }));
    expect(results.filter((r, i) => i % 3 === 0 && r.isError)).toEqual([]);
    for (const [i, result] of results.entries()) {
      if (i % 3 === 0) continue;
      expect(errorOf(result)).toMatchObject({ class: 'request_error', code: 'request_rejected_by_nodes' });
    }
    expect(app.pistom.router.status().nodes.every((node) => node.breaker === 'closed' && node.faults === 0)).toBe(true);
  });

  it('a node that fails requests the other nodes serve is still a faulty node: its breaker opens, no client sees an error', async () => {
    sims = await startSimCluster(3, { latencyMs: 5 });
    sims[0]!.setFault({ kind: 'xx', paths: 'execute' });
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), ...TUNED, balancer: { strategy: 'round-robin' } });
    const client = await app.connect();
    const results = await answeredOnce(30, 3, (i) => client.call('execute', { language: 'python', code: `print(${i})` }));
    expect(results.filter((r) => r.isError).map((r) => r.content[0]?.text)).toEqual([]);
    expect(results.every((r) => r.structuredContent!.node !== sims[0]!.name)).toBe(true);
    const broken = app.pistom.router.status().nodes.find((node) => node.name === sims[0]!.name)!;
    expect(broken.breaker).not.toBe('closed');
    expect(broken.faults).toBeGreaterThanOrEqual(3);
    expect(app.pistom.router.status().nodes.filter((node) => node.name !== sims[0]!.name).every((node) => node.faults === 0)).toBe(true);
  });

  it('with one node, a repeated poison request is never charged to it; different requests failing are', async () => {
    sims = await startSimCluster(1, { latencyMs: 5 });
    app = await startInProcess({ nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: CAPS })), ...TUNED });
    const client = await app.connect();
    const same = await answeredOnce(10, 2, () => client.call('execute', { language: 'python', code: 'print(1)', run_memory_limit: 3000 }));
    for (const result of same) expect(errorOf(result)?.class).toBe('node_fault');
    expect(same[0]!.content[0]!.text).toContain('memory.limit_in_bytes');
    expect(app.pistom.router.status().nodes[0]!.breaker).toBe('closed');
    expect((await client.call('execute', HELLO)).isError).toBeFalsy();

    // Now the sandbox breaks for every request: different requests failing open the breaker.
    sims[0]!.setFault({ kind: 'xx', paths: 'execute' });
    await answeredOnce(6, 1, (i) => client.call('execute', { language: 'python', code: `print(${i})` }));
    expect(app.pistom.router.status().nodes[0]!.breaker).not.toBe('closed');
  });
});
