/**
 * pistom bench through pistom itself (Streamable HTTP and stdio), against simulated nodes.
 * Needs the built CLI (npm run build): skipped when dist/cli.js is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/run.js';
import type { BenchReport } from '../../src/bench/report/types.js';
import { startSimCluster, type BenchSimNode } from './support/bench-sim.js';
import { freePort } from '../helpers/free-port.js';

const CLI = resolve('dist/cli.js');

function expectAccounted(report: BenchReport): void {
  expect(report.counts.answered + report.counts.failed).toBe(report.counts.sent);
  expect(Object.values(report.counts.classes).reduce((a, b) => a + b, 0)).toBe(report.counts.sent);
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`pistom serve exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((done) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        done(true);
      });
      socket.on('error', () => done(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pistom serve did not listen on ${port}`);
}

// dist/cli.js comes from `npm test`'s build step; without it the suite fails rather than skips.
describe('bench through pistom (MCP targets)', () => {
  let nodes: BenchSimNode[];
  let server: ChildProcess;
  let mcpUrl: string;
  let serverLog = '';
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pistom-bench-mcp-'));
    nodes = await startSimCluster(3, { latencyMs: 5, slots: 4 });
    const port = await freePort();
    server = spawn(process.execPath, [CLI, 'serve', '--http', `127.0.0.1:${port}`, ...nodes.flatMap((n) => ['--backend', n.url])], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    server.stderr?.on('data', (c: Buffer) => (serverLog = (serverLog + c.toString()).slice(-4000)));
    await waitForPort(port, server).catch((error: Error) => {
      throw new Error(`${error.message}\n${serverLog}`);
    });
    mcpUrl = `http://127.0.0.1:${port}/mcp`;
  });

  afterAll(async () => {
    server?.kill('SIGTERM');
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('over Streamable HTTP: every request accounted for, nodes named by pistom, shares add up', async () => {
    const report = await runBench({ target: { kind: 'mcp-http', url: mcpUrl }, concurrency: 6, requests: 150, warmupRequests: 10 });
    expectAccounted(report);
    expect(report.counts.sent).toBe(150);
    expect(report.counts.classes.ok).toBe(150);
    expect(report.nodes.length).toBeGreaterThanOrEqual(1);
    expect(report.nodes.length).toBeLessThanOrEqual(3);
    expect(report.nodes.reduce((s, n) => s + n.requests, 0)).toBe(150);
    expect(report.nodes.reduce((s, n) => s + n.share, 0)).toBeCloseTo(1, 9);
    // pistom reports its queue wait; the bench puts it against the nodes' run time.
    expect(report.queueVsRun?.queuedMs.count).toBe(150);
    const executed = nodes.reduce((sum, n) => sum + n.stats().executed, 0);
    expect(executed).toBeGreaterThanOrEqual(160);
  });

  it('over Streamable HTTP: invalid requests are client errors', async () => {
    const file = join(dir, 'invalid.jsonl');
    await writeFile(file, '{"name":"unknown language","language":"no-such-language-xyz","code":"print(1)"}\n');
    const report = await runBench({ target: { kind: 'mcp-http', url: mcpUrl }, concurrency: 2, requests: 10, workload: file });
    expectAccounted(report);
    expect(report.counts.classes.client_error).toBe(10);
  });

  it('over stdio: pistom started by the bench', async () => {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} serve --backend ${nodes[0]!.url}`;
    const report = await runBench({ target: { kind: 'mcp-stdio', command }, concurrency: 4, requests: 40 });
    expectAccounted(report);
    expect(report.counts.classes.ok).toBe(40);
    expect(report.nodes.reduce((s, n) => s + n.requests, 0)).toBe(40);
  });
});
