/**
 * The cluster: the set of nodes with their shared views (runtime catalog, health checks,
 * balancer). Nodes can be replaced at run time (config reload) without dropping calls in flight:
 * a removed node leaves the selection at once and is closed when its last call has finished.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ResolvedConfig, NodeConfig } from '../config/schema.js';
import type { PistonRuntime } from '../piston/types.js';
import { createStrategy, pickNode, type Random, type Strategy } from './balancer.js';
import { RuntimeCatalog, type CatalogEntry } from './catalog.js';
import { HealthChecker } from './health.js';
import { ClusterNode, type BreakerState } from './node.js';

export interface ClusterEvents {
  onBreakerChange?: (node: string, state: BreakerState) => void;
  onHealthCheck?: (node: string, ok: boolean) => void;
  onHealthChange?: (node: string, healthy: boolean) => void;
  onCatalogRefresh?: (node: string, outcome: 'ok' | 'error') => void;
  onCatalogLookup?: (node: string, outcome: 'hit' | 'miss') => void;
}

export interface ClusterOptions {
  random?: Random;
  events?: ClusterEvents;
  /** Start active health checks (default true). */
  healthChecks?: boolean;
}

export interface NodeStatus {
  name: string;
  healthy: boolean;
  breaker: BreakerState;
  in_flight: number;
  queued: number;
  max_concurrent: number;
  tier: number;
  weight: number;
  latency_ms: number | null;
  completed: number;
  faults: number;
  runtimes: string[];
  last_error: { message: string; at: string } | null;
}

export class Cluster {
  private nodes = new Map<string, ClusterNode>();
  private readonly draining = new Set<ClusterNode>();
  readonly catalog: RuntimeCatalog;
  private readonly health: HealthChecker;
  private strategy: Strategy;
  private config: ResolvedConfig;
  private closed = false;

  constructor(
    config: ResolvedConfig,
    private readonly options: ClusterOptions = {},
  ) {
    this.config = config;
    const events = options.events ?? {};
    this.strategy = createStrategy(config.balancer.strategy, options.random);
    this.catalog = new RuntimeCatalog({
      ttlMs: config.catalog.ttl_ms,
      refreshAheadMs: config.catalog.refresh_ahead_ms,
      load: (name, signal) => this.requireNode(name).client.runtimes({ signal, timeoutMs: this.config.health.timeout_ms }),
      onRefresh: events.onCatalogRefresh,
      onLookup: events.onCatalogLookup,
      failureBackoffMs: Math.min(config.health.interval_ms, 5000),
    });
    this.health = new HealthChecker({
      intervalMs: config.health.interval_ms,
      timeoutMs: config.health.timeout_ms,
      unhealthyThreshold: config.health.unhealthy_threshold,
      healthyThreshold: config.health.healthy_threshold,
      onResult: (name, ok, runtimes) => {
        if (ok && runtimes) this.catalog.put(name, runtimes);
        events.onHealthCheck?.(name, ok);
      },
      onChange: events.onHealthChange,
    });
    this.applyNodes(config.nodes);
    if (options.healthChecks !== false) this.health.start();
  }

  get settings(): ResolvedConfig {
    return this.config;
  }

  list(): ClusterNode[] {
    return [...this.nodes.values()];
  }

  get(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  private requireNode(name: string): ClusterNode {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`node ${name} is no longer configured`);
    return node;
  }

  /** Applies a new config: adds, removes and replaces nodes; calls in flight finish where they are. */
  reconfigure(config: ResolvedConfig): { added: string[]; removed: string[]; changed: string[] } {
    const nodeSettingsChanged = !isDeepStrictEqual(config.breaker, this.config.breaker) || !isDeepStrictEqual(config.client, this.config.client);
    this.config = config;
    this.strategy = createStrategy(config.balancer.strategy, this.options.random);
    return this.applyNodes(config.nodes, nodeSettingsChanged);
  }

  private applyNodes(configs: NodeConfig[], forceReplace = false): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const next = new Map<string, ClusterNode>();
    for (const nodeConfig of configs) {
      const existing = this.nodes.get(nodeConfig.name);
      if (existing && !forceReplace && isDeepStrictEqual(existing.config, nodeConfig)) {
        next.set(nodeConfig.name, existing);
        continue;
      }
      if (existing) {
        changed.push(nodeConfig.name);
        this.retire(existing);
      } else {
        added.push(nodeConfig.name);
      }
      next.set(nodeConfig.name, new ClusterNode(nodeConfig, this.config, { onBreakerChange: this.options.events?.onBreakerChange }));
    }
    for (const [name, node] of this.nodes) {
      if (!next.has(name)) {
        removed.push(name);
        this.retire(node);
      }
    }
    this.nodes = next;
    this.catalog.setNodes([...next.keys()]);
    for (const name of changed) void this.catalog.refresh(name);
    this.health.setTargets(
      [...next.values()].map((node) => ({
        name: node.name,
        get healthy() {
          return node.healthy;
        },
        set healthy(value: boolean) {
          node.healthy = value;
        },
        check: (timeoutMs: number) => node.client.runtimes({ timeoutMs }),
      })),
    );
    return { added, removed, changed };
  }

  private retire(node: ClusterNode): void {
    this.draining.add(node);
    void node.drain().then(() => {
      this.draining.delete(node);
      return node.close();
    });
  }

  /** The merged runtime catalog of every node (fetching lists not yet known). */
  async runtimes(): Promise<CatalogEntry[]> {
    const lists = await this.catalog.lists();
    // Merging is done again only when a node's list object changed (fetched anew, node added or gone).
    const merged = this.merged;
    if (merged && merged.lists.size === lists.size && [...lists].every(([node, list]) => merged.lists.get(node) === list)) return merged.entries;
    const entries = RuntimeCatalog.merge(lists);
    this.merged = { lists, entries };
    return entries;
  }

  private merged: { lists: Map<string, PistonRuntime[]>; entries: CatalogEntry[] } | undefined;

  /** Health-check round now (tests and `pistom check`). */
  checkHealth(): Promise<void> {
    return this.health.checkAll();
  }

  /** Picks a node among `names` that can take traffic, skipping `exclude` while another can serve. */
  pick(names: readonly string[], exclude?: string): ClusterNode | undefined {
    const candidates = names.map((name) => this.nodes.get(name)).filter((node): node is ClusterNode => node !== undefined && node.available);
    const preferred = exclude && candidates.length > 1 ? candidates.filter((node) => node.name !== exclude) : candidates;
    return pickNode(this.strategy, preferred);
  }

  status(): NodeStatus[] {
    return this.list().map((node) => ({
      name: node.name,
      healthy: node.healthy,
      breaker: node.breakerState,
      in_flight: node.inFlight,
      queued: node.queued,
      max_concurrent: node.config.max_concurrent,
      tier: node.config.tier,
      weight: node.config.weight,
      latency_ms: node.latencyMs === undefined ? null : Math.round(node.latencyMs * 10) / 10,
      completed: node.completed,
      faults: node.faults,
      runtimes: (this.catalog.peek(node.name) ?? []).map((runtime: PistonRuntime) => `${runtime.language}-${runtime.version}`),
      last_error: node.lastError ?? null,
    }));
  }

  /** Total slots of the nodes that can take traffic now. */
  capacity(): number {
    let slots = 0;
    for (const node of this.nodes.values()) if (node.available) slots += node.config.max_concurrent;
    return slots;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    this.catalog.clear();
    await Promise.all([...this.nodes.values(), ...this.draining].map((node) => node.close()));
    this.nodes.clear();
    this.draining.clear();
  }
}
