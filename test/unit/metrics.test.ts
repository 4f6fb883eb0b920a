/**
 * src/metrics.ts on its own: what each hook and event records, the gauges read from a bound
 * pistom, Prometheus naming, one registry per instance, and no URL or secret in any label.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { register as globalRegistry } from 'prom-client';
import { createPistom, type Pistom } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createMetrics, type Metrics } from '../../src/metrics.js';

const SECRET = 'unit-SECRET-header-value';

async function values(metrics: Metrics, name: string): Promise<Array<{ labels: Record<string, string | number>; value: number }>> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
}

describe('metrics', () => {
  const opened: Array<Metrics | Pistom> = [];
  afterEach(async () => {
    for (const item of opened.splice(0)) await item.close();
  });

  function make(): Metrics {
    const metrics = createMetrics({ defaultMetrics: false });
    opened.push(metrics);
    return metrics;
  }

  it('shows the shared store\'s gauges only where a shared store is configured', () => {
    const without = make();
    expect(without.registry.getSingleMetric('pistom_shared_redis_up')).toBeUndefined();
    const withShared = createMetrics({ defaultMetrics: false, shared: true });
    expect(withShared.registry.getSingleMetric('pistom_shared_redis_up')).toBeDefined();
    withShared.close();
  });

  it('records calls, attempts, retries and cluster events under their labels', async () => {
    const metrics = make();
    const { hooks, events, onToolCall } = metrics.instrumentation;
    onToolCall!('execute', 'ok', 0.2);
    onToolCall!('execute', 'overload', 0.01);
    hooks!.callFinished!({ outcome: 'ok', node: 'a', attempts: 2, queuedMs: 40, totalMs: 200 });
    hooks!.callFinished!({ outcome: 'overload', code: 'queue_full', attempts: 0, queuedMs: 0, totalMs: 1 });
    hooks!.attemptFinished!('b', 'node_fault', 30, 'status');
    hooks!.attemptFinished!('a', 'ok', 120);
    hooks!.retried!('b', 'status');
    events!.onBreakerChange!('b', 'open');
    events!.onHealthCheck!('a', true);
    events!.onHealthCheck!('b', false);
    events!.onCatalogRefresh!('a', 'ok');
    events!.onCatalogLookup!('a', 'hit');
    metrics.reloaded('refused');

    expect(await values(metrics, 'pistom_tool_calls_total')).toEqual([
      { labels: { tool: 'execute', outcome: 'ok' }, value: 1 },
      { labels: { tool: 'execute', outcome: 'overload' }, value: 1 },
    ]);
    expect(await values(metrics, 'pistom_execute_calls_total')).toEqual([
      { labels: { outcome: 'ok', node: 'a' }, value: 1 },
      { labels: { outcome: 'overload', node: 'none' }, value: 1 },
    ]);
    const total = await values(metrics, 'pistom_call_duration_seconds');
    expect(total.find((v) => v.labels.le === 0.25 && v.labels.node === 'a')?.value).toBe(1);
    expect(total.find((v) => v.labels.le === 0.1 && v.labels.node === 'a')?.value).toBe(0);
    const wait = await values(metrics, 'pistom_queue_wait_seconds');
    // A call refused before admission never waited in the queue: only the admitted one counts.
    expect(wait.filter((v) => v.labels.le === '+Inf')).toEqual([{ labels: { le: '+Inf', node: 'a' }, value: 1 }]);
    expect(wait.find((v) => v.labels.le === 0.05)?.value).toBe(1);
    const attempts = await values(metrics, 'pistom_attempt_duration_seconds');
    expect(attempts.filter((v) => v.labels.le === '+Inf').map((v) => v.labels)).toEqual([
      { le: '+Inf', node: 'b', outcome: 'node_fault' },
      { le: '+Inf', node: 'a', outcome: 'ok' },
    ]);
    expect(await values(metrics, 'pistom_retries_total')).toEqual([{ labels: { node: 'b', reason: 'status' }, value: 1 }]);
    expect(await values(metrics, 'pistom_breaker_transitions_total')).toEqual([{ labels: { node: 'b', state: 'open' }, value: 1 }]);
    expect(await values(metrics, 'pistom_health_checks_total')).toEqual([
      { labels: { node: 'a', result: 'ok' }, value: 1 },
      { labels: { node: 'b', result: 'failed' }, value: 1 },
    ]);
    expect(await values(metrics, 'pistom_catalog_refreshes_total')).toEqual([{ labels: { node: 'a', result: 'ok' }, value: 1 }]);
    expect(await values(metrics, 'pistom_catalog_lookups_total')).toEqual([{ labels: { node: 'a', result: 'hit' }, value: 1 }]);
    expect(await values(metrics, 'pistom_config_reloads_total')).toEqual([{ labels: { result: 'refused' }, value: 1 }]);
  });

  it('reads the gauges from the bound pistom, with node names and never URLs or headers', async () => {
    const metrics = make();
    const config = parseConfig({
      nodes: [
        { url: `http://admin:${SECRET}@127.0.0.1:1`, headers: { Authorization: SECRET } },
        { name: 'named', url: 'https://piston.example:2000/api', headers: { 'X-Key': SECRET } },
      ],
    });
    const pistom = createPistom(config, { ...metrics.instrumentation, healthChecks: false });
    opened.push(pistom);
    metrics.bind(pistom);

    expect(await values(metrics, 'pistom_in_flight_calls')).toEqual([{ labels: {}, value: 0 }]);
    expect(await values(metrics, 'pistom_queued_calls')).toEqual([{ labels: {}, value: 0 }]);
    // no health check has run: not known to be healthy yet
    expect(await values(metrics, 'pistom_node_healthy')).toEqual([
      { labels: { node: '127.0.0.1:1' }, value: 0 },
      { labels: { node: 'named' }, value: 0 },
    ]);
    expect((await values(metrics, 'pistom_node_ejected')).filter((v) => v.value === 1)).toEqual([]);
    const breaker = await values(metrics, 'pistom_node_breaker_state');
    expect(breaker.filter((v) => v.value === 1).map((v) => v.labels)).toEqual([
      { node: '127.0.0.1:1', state: 'closed' },
      { node: 'named', state: 'closed' },
    ]);
    const text = await metrics.endpoint.render();
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('admin');
    expect(text).not.toMatch(/https?:\/\//);
    expect(metrics.endpoint.contentType).toMatch(/^text\/plain/);
  });

  it('follows Prometheus naming and keeps to a registry of its own', async () => {
    const first = make();
    const second = make(); // a second instance must not collide with the first
    expect(globalRegistry.getMetricsAsArray().filter((m) => m.name.startsWith('pistom_'))).toEqual([]);
    const json = await first.registry.getMetricsAsJSON();
    expect(json.length).toBeGreaterThan(10);
    expect(new Set(json.map((metric) => String(metric.type)))).toEqual(new Set(['counter', 'gauge', 'histogram']));
    for (const metric of json) {
      expect(metric.name).toMatch(/^pistom_[a-z0-9_]+$/);
      if (String(metric.type) === 'counter') expect(metric.name).toMatch(/_total$/);
      if (String(metric.type) === 'histogram') expect(metric.name).toMatch(/_seconds$/);
      expect(metric.help.length).toBeGreaterThan(10);
    }
    expect((await second.registry.getMetricsAsJSON()).map((m) => m.name)).toEqual(json.map((m) => m.name));
    first.close();
    expect(await first.registry.getMetricsAsJSON()).toEqual([]);
  });
});
