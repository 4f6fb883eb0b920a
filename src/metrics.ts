/**
 * Prometheus metrics (prom-client) in a registry of this instance's own. Names follow Prometheus'
 * conventions: `pistom_` prefix, base units (seconds), `_total` for counters. Labels carry node
 * names, tools and outcome classes only: never URLs, headers or tokens.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Pistom, PistomOptions } from './app.js';
import { answerOps, type MetricsEndpoint } from './mcp/http/ops.js';
import { closeServer, listen, sendJson } from './util/http.js';
import type { FleetEvents } from './shared/fleet.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface Metrics {
  registry: Registry;
  instrumentation: Pick<PistomOptions, 'events' | 'hooks' | 'onToolCall'>;
  /** Counts what the shared store does (only with shared.redis_url). */
  fleetEvents: FleetEvents;
  endpoint: MetricsEndpoint;
  bind(pistom: Pistom): void;
  /** Counts a SIGHUP reload: applied, or refused (the old config stays). */
  reloaded(result: 'ok' | 'refused'): void;
  close(): void;
}

/**
 * A render that runs at most once per `cacheMs`: scrapes in between (and scrapes that arrive while
 * one renders) get the same text, so any number of scrapers costs one render per interval.
 */
export function cachedRender(render: () => Promise<string>, cacheMs: number, now: () => number = () => performance.now()): () => Promise<string> {
  let last: { text: Promise<string>; at: number } | undefined;
  return () => {
    const at = now();
    if (last && at - last.at < cacheMs) return last.text;
    const text = render();
    last = { text, at };
    // A failed render is not kept: the next scrape tries again.
    text.catch(() => {
      if (last?.text === text) last = undefined;
    });
    return text;
  };
}

export interface MetricsOptions {
  defaultMetrics?: boolean;
  cacheMs?: number;
  /** A shared store is configured: show the fleet's gauges (absent otherwise, so that no alert on them fires by mistake). */
  shared?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'pistom_' });
  const toolCalls = new Counter({ name: 'pistom_tool_calls_total', help: 'MCP tool calls by tool and outcome class.', labelNames: ['tool', 'outcome'], registers: [registry] });
  const callDuration = new Histogram({ name: 'pistom_call_duration_seconds', help: 'Whole execute calls, queue and retries included, by the node that answered ("none" if no node did) and outcome.', labelNames: ['node', 'outcome'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const queueWait = new Histogram({ name: 'pistom_queue_wait_seconds', help: 'Time admitted execute calls waited in the admission queue, by the node that answered ("none" if no node did).', labelNames: ['node'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const attemptDuration = new Histogram({ name: 'pistom_attempt_duration_seconds', help: 'One attempt on one node (node limiter wait, request and answer), by node and outcome (ok, request_error, node_fault, breaker_open, cancelled).', labelNames: ['node', 'outcome'], buckets: LATENCY_BUCKETS, registers: [registry] });
  const attempts = new Counter({ name: 'pistom_attempts_total', help: 'Attempts by node, outcome and fault reason (the reason is "none" unless the outcome is node_fault or breaker_open).', labelNames: ['node', 'outcome', 'reason'], registers: [registry] });
  const poisoned = new Counter({ name: 'pistom_poisoned_requests_total', help: 'Requests that failed the same way on two nodes: answered as request errors and charged to no node.', registers: [registry] });
  const ejections = new Counter({ name: 'pistom_node_ejections_total', help: 'Nodes taken out of rotation, by node and reason (misconfigured, unresponsive).', labelNames: ['node', 'reason'], registers: [registry] });
  const redispatched = new Counter({ name: 'pistom_redispatched_attempts_total', help: 'Attempts moved off a node that stopped answering, by node.', labelNames: ['node'], registers: [registry] });
  const calls = new Counter({ name: 'pistom_execute_calls_total', help: 'Execute calls by outcome class and the node that answered.', labelNames: ['outcome', 'node'], registers: [registry] });
  const retries = new Counter({ name: 'pistom_retries_total', help: 'Attempts retried on another node, by the failed node and fault reason.', labelNames: ['node', 'reason'], registers: [registry] });
  const breakerTransitions = new Counter({ name: 'pistom_breaker_transitions_total', help: 'Circuit breaker state changes by node and new state.', labelNames: ['node', 'state'], registers: [registry] });
  const healthChecks = new Counter({ name: 'pistom_health_checks_total', help: 'Active health checks by node and result.', labelNames: ['node', 'result'], registers: [registry] });
  const catalogRefreshes = new Counter({ name: 'pistom_catalog_refreshes_total', help: 'Runtime list fetches by node and result.', labelNames: ['node', 'result'], registers: [registry] });
  const catalogLookups = new Counter({ name: 'pistom_catalog_lookups_total', help: 'Runtime list lookups by node, served from cache (hit) or fetched (miss).', labelNames: ['node', 'result'], registers: [registry] });
  const fleetEjections = new Counter({ name: 'pistom_fleet_ejections_total', help: 'Nodes taken out of rotation here because another pistom process of the fleet did (shared store), by node and reason.', labelNames: ['node', 'reason'], registers: [registry] });
  const slotFallbacks = new Counter({ name: 'pistom_shared_local_acquires_total', help: 'Node slots taken under local limits because Redis was unreachable (shared store), by node.', labelNames: ['node'], registers: [registry] });
  const leasesLost = new Counter({ name: 'pistom_shared_leases_lost_total', help: 'Node slots leased in Redis that ran out before they were renewed (Redis away or slow), by node.', labelNames: ['node'], registers: [registry] });
  const catalogShared = new Counter({ name: 'pistom_catalog_shared_total', help: "Runtime lists taken from the fleet's shared store instead of the node, by node.", labelNames: ['node'], registers: [registry] });
  const reloads = new Counter({ name: 'pistom_config_reloads_total', help: 'Configuration reloads (SIGHUP) by result: ok, or refused (the old configuration stays).', labelNames: ['result'], registers: [registry] });

  let bound: Pistom | undefined;
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        if (bound) collect(this);
      },
    });
  gauge('pistom_in_flight_calls', 'Execute calls holding an admission slot.', [], (g) => g.set(bound!.router.running));
  gauge('pistom_queued_calls', 'Execute calls waiting in the admission queue.', [], (g) => g.set(bound!.router.queueSize));
  const hosts = () => bound!.cluster.list().map((dispatcher) => dispatcher.host);
  gauge('pistom_node_in_flight', 'Requests running on each node.', ['node'], (g) => {
    g.reset();
    for (const host of hosts()) g.set({ node: host.name }, host.inFlight);
  });
  gauge('pistom_node_queued', "Requests waiting in each node's limiter.", ['node'], (g) => {
    g.reset();
    for (const host of hosts()) g.set({ node: host.name }, host.queued);
  });
  gauge('pistom_node_healthy', '1 when the active health checks say the node is healthy (0 before its first check).', ['node'], (g) => {
    g.reset();
    for (const host of hosts()) g.set({ node: host.name }, host.health === 'healthy' ? 1 : 0);
  });
  gauge('pistom_node_ejected', 'Nodes out of rotation besides their breaker, by reason: 1 for the current reason.', ['node', 'reason'], (g) => {
    g.reset();
    for (const host of hosts()) for (const reason of ['misconfigured', 'unresponsive']) g.set({ node: host.name, reason }, host.ejection?.reason === reason ? 1 : 0);
  });
  if (options.shared) {
    gauge('pistom_shared_redis_up', "1 while the fleet's Redis answers, 0 while this process serves with local limits; absent without shared.redis_url.", [], (g) => {
      const fleet = bound!.cluster.fleetSummary();
      g.set(fleet?.mode === 'redis' ? 1 : 0);
    });
  }
  gauge('pistom_fleet_slots_held', 'Slots held on each node by every pistom process of the fleet, as last read from Redis (shared store only).', ['node'], (g) => {
    g.reset();
    for (const host of hosts()) {
      const held = bound!.cluster.fleetSlotsHeld(host.name);
      if (held !== undefined) g.set({ node: host.name }, held);
    }
  });
  gauge('pistom_fleet_node_ejected', 'Nodes out of rotation by the verdict of another pistom process (shared store): 1 per node, reason and process (pid@host).', ['node', 'reason', 'by'], (g) => {
    g.reset();
    for (const host of hosts()) {
      const ejection = host.fleetEjection;
      if (ejection) g.set({ node: host.name, reason: ejection.reason, by: ejection.by }, 1);
    }
  });
  gauge('pistom_node_breaker_state', 'Circuit breaker state per node: 1 for the current state.', ['node', 'state'], (g) => {
    g.reset();
    for (const host of hosts()) for (const state of ['closed', 'open', 'half_open']) g.set({ node: host.name, state }, host.breaker.state === state ? 1 : 0);
  });

  return {
    registry,
    instrumentation: {
      onToolCall: (tool, outcome) => toolCalls.inc({ tool, outcome }),
      hooks: {
        callFinished: (report) => {
          const node = report.node ?? 'none';
          calls.inc({ outcome: report.outcome, node });
          callDuration.observe({ node, outcome: report.outcome }, report.totalMs / 1000);
          if (report.attempts > 0) queueWait.observe({ node }, report.queuedMs / 1000);
        },
        attemptFinished: (node, outcome, ms, reason) => {
          attemptDuration.observe({ node, outcome }, ms / 1000);
          attempts.inc({ node, outcome, reason: reason ?? 'none' });
        },
        poisoned: () => poisoned.inc(),
        retried: (node, reason) => retries.inc({ node, reason }),
      },
      events: {
        onBreakerChange: (node, state) => breakerTransitions.inc({ node, state }),
        onHealthCheck: (node, ok) => healthChecks.inc({ node, result: ok ? 'ok' : 'failed' }),
        onEjection: (node, ejection) => {
          if (ejection) ejections.inc({ node, reason: ejection.reason });
        },
        onRedispatch: (node, count) => redispatched.inc({ node }, count),
        onCatalogRefresh: (node, outcome) => catalogRefreshes.inc({ node, result: outcome }),
        onCatalogLookup: (node, outcome) => catalogLookups.inc({ node, result: outcome }),
        onFleetEjection: (node, ejection) => {
          if (ejection) fleetEjections.inc({ node, reason: ejection.reason });
        },
      },
    },
    fleetEvents: {
      onSlotFallback: (node) => slotFallbacks.inc({ node }),
      onLeaseLost: (node) => leasesLost.inc({ node }),
      onCatalogShared: (node) => catalogShared.inc({ node }),
    },
    endpoint: { contentType: registry.contentType, render: cachedRender(() => registry.metrics(), options.cacheMs ?? 0) },
    bind(pistom) {
      bound = pistom;
    },
    reloaded(result) {
      reloads.inc({ result });
    },
    close() {
      registry.clear();
      bound = undefined;
    },
  };
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  endpoint: MetricsEndpoint;
  /** True when at least one node can serve (and the process is not shutting down). */
  ready: () => boolean;
  /** More to say in /readyz's answer (the shared store's state). */
  readyDetail?: () => Record<string, unknown>;
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A listener with /metrics, /healthz and /readyz only (`pistom serve --metrics HOST:PORT`): how a
 * stdio server gets scraped, or an HTTP one on a port kept apart from /mcp.
 */
export async function serveMetrics(options: MetricsServerOptions): Promise<MetricsServer> {
  const ops = { ready: options.ready, readyDetail: options.readyDetail, metrics: options.endpoint };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    void answerOps(req, res, path, ops).then((answered) => {
      if (!answered) sendJson(res, 404, { error: `no route ${path}; this listener serves /metrics, /healthz and /readyz` });
    });
  });
  const url = await listen(server, options.port, options.host);
  // Scrapers keep connections alive; nothing here is worth waiting for.
  return { url, close: () => closeServer(server) };
}
