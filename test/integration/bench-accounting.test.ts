/**
 * pistom bench against simulated Piston nodes with known service times: every request is
 * accounted for, shares add up, open-loop latency includes the queueing a saturated target
 * causes, and error classes are counted right when a node fails.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/run.js';
import type { BenchReport } from '../../src/bench/report/types.js';
import { startSimCluster, startSimNode, type BenchSimNode } from './support/bench-sim.js';
import { runCli } from './support/bench-run.js';
import { waitFor } from './ops-support.js';

let dir: string;
const started: BenchSimNode[] = [];

async function sims(count: number, opts: { latencyMs?: number; slots?: number } = {}): Promise<BenchSimNode[]> {
  const nodes = count === 1 ? [await startSimNode(opts)] : await startSimCluster(count, opts);
  started.push(...nodes);
  return nodes;
}

function expectAccounted(report: BenchReport): void {
  const { counts } = report;
  const classTotal = Object.values(counts.classes).reduce((a, b) => a + b, 0);
  expect(counts.answered + counts.failed).toBe(counts.sent);
  expect(classTotal).toBe(counts.sent);
  expect(counts.answered).toBe(counts.classes.ok + counts.classes.program_error);
  expect(report.latencyMs.count).toBe(counts.answered);
  expect(report.failedLatencyMs.count).toBe(counts.failed);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pistom-bench-'));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((n) => n.close()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('accounting against simulated nodes', () => {
  it('closed loop: sent = answered + failed, warm-up kept apart, shares add up to 1', async () => {
    const nodes = await sims(3, { latencyMs: 5, slots: 4 });
    const report = await runBench({
      target: { kind: 'piston', urls: nodes.map((n) => n.url) },
      concurrency: 6,
      requests: 300,
      warmupRequests: 30,
    });
    expectAccounted(report);
    expect(report.counts.sent).toBe(300);
    expect(report.counts.warmup).toBe(30);
    expect(report.stoppedBy).toBe('requests');
    expect(report.counts.classes.ok).toBe(300);
    // What the nodes saw: every measured and warm-up request, and nothing else.
    const executed = nodes.reduce((sum, n) => sum + n.stats().executed, 0);
    expect(executed).toBe(330);
    expect(report.nodes).toHaveLength(3);
    expect(report.nodes.reduce((sum, n) => sum + n.share, 0)).toBeCloseTo(1, 9);
    expect(report.nodes.reduce((sum, n) => sum + n.requests, 0)).toBe(300);
    for (const node of report.nodes) expect(node.requests).toBe(100); // round robin
    expect(report.timeline.reduce((sum, p) => sum + p.answered + p.failed, 0)).toBe(300);
    expect(report.timeline.reduce((sum, p) => sum + p.sent, 0)).toBe(300);
  });

  it('closed loop by duration stops by itself and reports every request it sent', async () => {
    const nodes = await sims(2, { latencyMs: 10, slots: 2 });
    const report = await runBench({
      target: { kind: 'piston', urls: nodes.map((n) => n.url) },
      concurrency: 4,
      durationMs: 600,
      warmupMs: 200,
      workload: 'mix',
    });
    expectAccounted(report);
    expect(report.stoppedBy).toBe('duration');
    expect(report.counts.sent).toBeGreaterThan(0);
    expect(report.counts.warmup).toBeGreaterThan(0);
    expect(report.workloads.reduce((sum, w) => sum + w.requests, 0)).toBe(report.counts.sent);
    const executed = nodes.reduce((sum, n) => sum + n.stats().executed, 0);
    expect(executed).toBe(report.counts.sent + report.counts.warmup);
  });

  it('open loop: latency counts from when each request was due, so a saturated node shows its queue', async () => {
    // One slot, 20 ms per job: capacity ~50/s. 60 requests due at 300/s arrive in 0.2 s and need ~1.2 s.
    const [node] = await sims(1, { latencyMs: 20, slots: 1 });
    const report = await runBench({
      target: { kind: 'piston', urls: [node!.url] },
      rate: 300,
      requests: 60,
    });
    expectAccounted(report);
    expect(report.counts.classes.ok).toBe(60);
    expect(report.load.mode).toBe('open');
    const { min, max, p90 } = report.latencyMs;
    // The first request waits for nothing; the last waits for ~59 service times.
    expect(min).toBeLessThan(max / 10);
    expect(p90).toBeGreaterThan(min * 5);
    // Latency far beyond the node's own time per job: the waiting is counted, not omitted.
    expect(max).toBeGreaterThan(20 * 15);
  });

  it('open loop at a rate the node holds: latency stays near the service time', async () => {
    const [node] = await sims(1, { latencyMs: 20, slots: 4 });
    const report = await runBench({ target: { kind: 'piston', urls: [node!.url] }, rate: 40, requests: 20 });
    expectAccounted(report);
    // Compared with the saturated run above (max > 300 ms): no queue here, wide margin for a busy machine.
    expect(report.latencyMs.p50).toBeLessThan(200);
  });
});

describe('error classes', () => {
  it('a node answering 500 is counted as node faults, on that node only', async () => {
    const [good, bad] = await sims(2, { latencyMs: 2 });
    bad!.setFault({ kind: 'status', status: 500, paths: 'execute' });
    const report = await runBench({
      target: { kind: 'piston', urls: [good!.url, bad!.url] },
      concurrency: 4,
      requests: 100,
    });
    expectAccounted(report);
    expect(report.counts.classes.ok).toBe(50);
    expect(report.counts.classes.node_fault).toBe(50);
    const urlOf = (node: BenchSimNode) => node.url.replace(/\/+$/, '');
    const badStats = report.nodes.find((n) => n.node === urlOf(bad!))!;
    expect(badStats.classes.node_fault).toBe(50);
    expect(badStats.answered).toBe(0);
    expect(report.nodes.find((n) => n.node === urlOf(good!))!.classes.ok).toBe(50);
    expect(report.errors[0]).toMatchObject({ class: 'node_fault', code: 'HTTP 500', count: 50 });
  });

  it('overload refusals, client errors, resets and timeouts land in their own classes', async () => {
    const nodes = await sims(4, { latencyMs: 1 });
    nodes[0]!.setFault({ kind: 'status', status: 429, paths: 'execute' });
    nodes[1]!.setFault({ kind: 'status', status: 400, body: '{"message":"bad"}', paths: 'execute' });
    nodes[2]!.setFault({ kind: 'reset', paths: 'execute' });
    nodes[3]!.setFault({ kind: 'hang', paths: 'execute' });
    const report = await runBench({
      target: { kind: 'piston', urls: nodes.map((n) => n.url) },
      concurrency: 4,
      requests: 20,
      timeoutMs: 300,
    });
    expectAccounted(report);
    expect(report.counts.classes).toMatchObject({ overload: 5, client_error: 5, node_fault: 5, timeout: 5, ok: 0 });
    expect(report.counts.failed).toBe(20);
  });

  it('program failures are answers, not failures', async () => {
    const [node] = await sims(1, { latencyMs: 1 });
    const file = join(dir, 'programs.jsonl');
    await writeFile(
      file,
      [
        JSON.stringify({ name: 'ok', language: 'python', code: 'pistom-sim: {"stdout":"fine\\n","code":0}', weight: 1 }),
        JSON.stringify({ name: 'exit 1', language: 'python', code: 'pistom-sim: {"stdout":"","code":1}', weight: 1 }),
      ].join('\n'),
    );
    const report = await runBench({ target: { kind: 'piston', urls: [node!.url] }, concurrency: 2, requests: 40, workload: file });
    expectAccounted(report);
    expect(report.counts.answered).toBe(40);
    expect(report.counts.failed).toBe(0);
    expect(report.counts.classes.ok + report.counts.classes.program_error).toBe(40);
    expect(report.counts.classes.program_error).toBe(report.workloads.find((w) => w.name === 'exit 1')!.requests);
    expect(report.counts.classes.program_error).toBeGreaterThan(5);
  });
});

describe('the command line', () => {
  it('SIGINT ends a run cleanly with the report of what was done (exit 130)', async () => {
    const [node] = await sims(1, { latencyMs: 5 });
    const signals = new EventEmitter();
    const json = join(dir, 'interrupted.json');
    const pending = runCli(['--piston', node!.url, '--concurrency', '2', '--duration', '60s', '--json', json, '--quiet'], signals);
    await waitFor(() => node!.stats().executed >= 10, 'the run to be under way');
    signals.emit('SIGINT');
    const { code, stdout } = await pending;
    expect(code).toBe(130);
    expect(stdout).toContain('stopped   by interrupted');
    const report = JSON.parse(await readFile(json, 'utf8')) as BenchReport;
    expect(report.stoppedBy).toBe('interrupted');
    expectAccounted(report);
    expect(report.counts.sent).toBeGreaterThan(0);
  });

  it('never prints a header value: not in output, reports or errors', async () => {
    const [node] = await sims(1, { latencyMs: 1 });
    const secret = 'Bearer s3cr3t-t0ken-value';
    const json = join(dir, 'secret.json');
    const html = join(dir, 'secret.html');
    node!.setFault({ kind: 'status', status: 401, body: `{"message":"rejected ${secret}"}`, paths: 'execute' });
    const run = await runCli(['--piston', node!.url, '--header', `Authorization: ${secret}`, '--requests', '5', '--json', json, '--html', html]);
    expect(run.code).toBe(0);
    const written = [run.stdout, run.stderr, await readFile(json, 'utf8'), await readFile(html, 'utf8')].join('\n');
    expect(written).toContain('Authorization');
    expect(written).toContain('client_error');
    expect(written).not.toContain('s3cr3t');
    // A target that cannot be reached: the error names it, but not the header.
    const down = await runCli(['--piston', 'http://127.0.0.1:9', '--header', `Authorization: ${secret}`, '--requests', '1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(down.stdout + down.stderr).not.toContain('s3cr3t');
  });

  it('--json - writes the report to stdout and the text report to stderr', async () => {
    const [node] = await sims(1, { latencyMs: 1 });
    const run = await runCli(['--piston', node!.url, '--requests', '10', '--json', '-']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.counts.sent).toBe(10);
    expect(run.stderr).toContain('pistom bench report');
  });

  it('compare puts two runs side by side with ratios', async () => {
    const [node] = await sims(1, { latencyMs: 2 });
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    expect((await runCli(['--piston', node!.url, '--requests', '40', '--concurrency', '1', '--json', a, '--quiet'])).code).toBe(0);
    node!.setLatency(8);
    expect((await runCli(['--piston', node!.url, '--requests', '40', '--concurrency', '1', '--json', b, '--quiet'])).code).toBe(0);
    const run = await runCli(['compare', a, b]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/p50\s+\S+\s+\S+\s+\d+\.\d\dx/);
    expect(run.stdout).toContain('throughput (answered)');
    const bad = await runCli(['compare', a]);
    expect(bad.code).toBe(2);
  });
});
