/**
 * /metrics and the logs of the built CLI after a known set of calls: every counter and histogram
 * checked against the calls made and what the nodes saw; a request id on every line of a call;
 * the level from the config or PISTOM_LOG_LEVEL; secrets fed in never come out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimCluster, type SimNode } from '../../src/sim/index.js';
import { connectHttp, writeConfig, type Connected, type ToolResult } from '../helpers/pistom.js';
import { errorOf, FAST_CAPS, HELLO, scrape, SECRET, serveHttp, serveStdio, TOKEN, waitFor, type HttpChild } from './ops-support.js';

const AUTH = { authorization: `Bearer ${TOKEN}` };

function configFor(sims: SimNode[], extra: Record<string, unknown> = {}): string {
  return writeConfig({
    nodes: sims.map((sim) => ({ name: sim.name, url: sim.url, caps: FAST_CAPS, headers: { Authorization: `Bearer ${SECRET}` } })),
    balancer: { strategy: 'round-robin' },
    breaker: { volume_threshold: 2, error_threshold_percentage: 50, reset_timeout_ms: 600_000, rolling_window_ms: 600_000 },
    health: { interval_ms: 600_000 },
    retry: { budget_min_per_s: 100 },
    // Exact counts right after each phase: no cached scrape.
    metrics: { cache_ms: 0 },
    ...extra,
  });
}

function countBy(results: ToolResult[], key: (result: ToolResult) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[key(result)] = (counts[key(result)] ?? 0) + 1;
  return counts;
}

interface LogLine {
  level: number;
  msg: string;
  request_id?: string;
  [key: string]: unknown;
}

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('metrics and logs', () => {
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

  it('counts every call, attempt, retry and breaker change of a known session', async () => {
    sims = await startSimCluster(2);
    const [a, b] = sims as [SimNode, SimNode];
    child = await serveHttp(['--config', configFor(sims)], { PISTOM_LOG_LEVEL: 'debug', PISTOM_AUTH_TOKENS: TOKEN });
    client = await connectHttp(child.url, AUTH);

    // Phase 1: a healthy cluster.
    const ok: ToolResult[] = [];
    for (let i = 0; i < 4; i++) ok.push(await client.call('execute', HELLO));
    ok.push(await client.call('run_python_code', { code: 'print(1)' }));
    const unknown = await client.call('execute', { language: 'cobol-but-not-really', code: 'x' });
    const overCap = await client.call('execute', { ...HELLO, run_timeout: 999_999 });
    await client.call('list_runtimes', {});
    await client.call('list_runtimes', {});
    await client.call('cluster_status', {});
    expect(ok.filter((r) => r.isError)).toEqual([]);
    expect([errorOf(unknown)?.class, errorOf(overCap)?.class]).toEqual(['request_error', 'request_error']);

    let m = await scrape(child.url, AUTH);
    expect(m.value('pistom_tool_calls_total', { tool: 'execute', outcome: 'ok' })).toBe(4);
    expect(m.value('pistom_tool_calls_total', { tool: 'execute', outcome: 'request_error' })).toBe(2);
    expect(m.value('pistom_tool_calls_total', { tool: 'run_python_code', outcome: 'ok' })).toBe(1);
    expect(m.value('pistom_tool_calls_total', { tool: 'list_runtimes', outcome: 'ok' })).toBe(2);
    expect(m.value('pistom_tool_calls_total', { tool: 'cluster_status', outcome: 'ok' })).toBe(1);
    expect(m.value('pistom_execute_calls_total', { outcome: 'ok' })).toBe(5);
    expect(m.value('pistom_execute_calls_total', { outcome: 'request_error', node: 'none' })).toBe(2);
    const byNode = countBy(ok, (r) => r.structuredContent!.node as string);
    for (const sim of sims) {
      const answered = byNode[sim.name] ?? 0;
      expect(answered).toBeGreaterThan(0); // round-robin
      expect(answered).toBe(sim.stats().executed);
      expect(m.value('pistom_execute_calls_total', { outcome: 'ok', node: sim.name })).toBe(answered);
      expect(m.value('pistom_call_duration_seconds_count', { outcome: 'ok', node: sim.name })).toBe(answered);
      expect(m.value('pistom_queue_wait_seconds_count', { node: sim.name })).toBe(answered);
      expect(m.value('pistom_attempt_duration_seconds_count', { outcome: 'ok', node: sim.name })).toBe(answered);
      expect(m.value('pistom_node_breaker_state', { node: sim.name, state: 'closed' })).toBe(1);
      expect(m.value('pistom_node_healthy', { node: sim.name })).toBe(1);
      expect(m.value('pistom_health_checks_total', { node: sim.name, result: 'ok' })).toBeGreaterThanOrEqual(1);
    }
    expect(m.value('pistom_call_duration_seconds_count', { outcome: 'request_error', node: 'none' })).toBe(2);
    expect(m.value('pistom_queue_wait_seconds_count')).toBe(5); // refused before admission: no queue wait
    expect(m.value('pistom_catalog_lookups_total', { result: 'hit' })).toBeGreaterThan(0);
    expect(m.value('pistom_retries_total')).toBe(0);
    expect(m.value('pistom_breaker_transitions_total')).toBe(0);
    expect(m.value('pistom_in_flight_calls')).toBe(0);
    expect(m.value('pistom_queued_calls')).toBe(0);

    // Phase 2: node b answers 503 to every run; calls it takes are retried on a until its breaker opens.
    b.setFault({ kind: 'status', status: 503, paths: 'execute' });
    const retried: ToolResult[] = [];
    for (let i = 0; i < 10; i++) retried.push(await client.call('execute', HELLO));
    expect(retried.filter((r) => r.isError)).toEqual([]);
    expect(new Set(retried.map((r) => r.structuredContent!.node))).toEqual(new Set([a.name]));
    const faults = b.stats().faulted;
    expect(faults).toBeGreaterThan(0);

    m = await scrape(child.url, AUTH);
    expect(m.value('pistom_retries_total', { node: b.name, reason: 'overloaded' })).toBe(faults);
    expect(m.value('pistom_attempts_total', { node: b.name, outcome: 'node_fault', reason: 'overloaded' })).toBe(faults);
    expect(m.value('pistom_attempt_duration_seconds_count', { node: b.name, outcome: 'node_fault' })).toBe(faults);
    expect(retried.filter((r) => r.structuredContent!.attempts === 2)).toHaveLength(faults);
    expect(m.value('pistom_breaker_transitions_total', { node: b.name, state: 'open' })).toBe(1);
    expect(m.value('pistom_node_breaker_state', { node: b.name, state: 'open' })).toBe(1);
    expect(m.value('pistom_breaker_transitions_total', { node: a.name })).toBe(0);
    expect(m.value('pistom_tool_calls_total', { tool: 'execute', outcome: 'ok' })).toBe(14);
    expect(m.value('pistom_execute_calls_total', { outcome: 'ok', node: a.name })).toBe(a.stats().executed);

    // Names follow Prometheus' conventions; no label carries a URL or a secret.
    for (const line of m.text.split('\n').filter((l) => l.startsWith('# TYPE pistom_'))) {
      const [, , name, type] = line.split(' ');
      expect(name).toMatch(/^pistom_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_seconds$/);
    }
    expect(m.text).not.toMatch(/https?:\/\//);
    expect(m.text).not.toContain(SECRET);
    expect(m.text).not.toContain(TOKEN);

    // Logs: a request id on every line of a call, one id per call; a warning when the breaker opened.
    const lines = logLines(child.stderr());
    const callLines = lines.filter((line) => ['execute finished', 'attempt failed'].includes(line.msg));
    expect(callLines.length).toBeGreaterThan(0);
    expect(callLines.filter((line) => typeof line.request_id !== 'string')).toEqual([]);
    const finished = lines.filter((line) => line.msg === 'execute finished');
    expect(finished).toHaveLength(17);
    expect(new Set(finished.map((line) => line.request_id)).size).toBe(17);
    const failedIds = new Set(lines.filter((line) => line.msg === 'attempt failed').map((line) => line.request_id));
    expect(failedIds.size).toBe(faults);
    for (const id of failedIds) expect(finished.find((line) => line.request_id === id)).toMatchObject({ outcome: 'ok', attempts: 2 });
    expect(lines.some((line) => line.level === 40 && line.node === b.name && line.breaker === 'open')).toBe(true);
    expect(child.stderr()).not.toContain(SECRET);
    expect(child.stderr()).not.toContain(TOKEN);
  });

  it('serves /metrics, /healthz and /readyz on a --metrics listener in stdio mode too', async () => {
    sims = await startSimCluster(1);
    const stdio = await serveStdio(['--config', configFor(sims), '--metrics', '127.0.0.1:0']);
    try {
      const match = await waitFor(() => /pistom metrics on (http:\/\/\S+)\/metrics/.exec(stdio.stderr()), 'the metrics listener', stdio);
      const base = match[1]!;
      expect((await stdio.call('execute', HELLO)).isError).toBeFalsy();
      const m = await scrape(base);
      expect(m.value('pistom_tool_calls_total', { tool: 'execute', outcome: 'ok' })).toBe(1);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      // ready once the first health round has found a node (over stdio it starts a moment after the client's first messages)
      await waitFor(async () => (await fetch(`${base}/readyz`)).status === 200, 'readiness', stdio);
      stdio.signal('SIGTERM');
      expect(await stdio.exited).toBe(0);
    } finally {
      await stdio.close();
    }
  });

  it('moves /metrics off the HTTP port with metrics.on_http_port: false, keeping it on the --metrics listener', async () => {
    sims = await startSimCluster(1);
    child = await serveHttp(['--config', configFor(sims, { metrics: { on_http_port: false } }), '--metrics', '127.0.0.1:0']);
    const base = (await waitFor(() => /pistom metrics on (http:\/\/\S+)\/metrics/.exec(child!.stderr()), 'the metrics listener', child))[1]!;
    expect((await fetch(`${child.url}/metrics`)).status, 'not on the MCP port').toBe(404);
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
    const m = await scrape(base);
    expect(m.text).toContain('pistom_tool_calls_total');
  });

  it('takes the log level from the config file, and PISTOM_LOG_LEVEL over it', async () => {
    sims = await startSimCluster(1);
    const file = configFor(sims, { log: { level: 'warn' } });
    child = await serveHttp(['--config', file], { PISTOM_LOG_LEVEL: '' });
    client = await connectHttp(child.url);
    await client.call('execute', HELLO);
    expect(logLines(child.stderr()).filter((line) => line.level < 40)).toEqual([]);
    await client.close();
    await child.close();

    child = await serveHttp(['--config', file], { PISTOM_LOG_LEVEL: 'debug' });
    client = await connectHttp(child.url);
    await client.call('execute', HELLO);
    await waitFor(() => logLines(child!.stderr()).some((line) => line.level === 20 && line.msg === 'execute finished'), 'a debug line', child);
  });
});
