/**
 * The cluster: the hosts (one host view and one dispatcher each) and the parts that share the
 * view: runtime catalog, health checker, liveness watch, balancer, poison memory. Nodes can be
 * replaced at run time (config reload) without dropping calls in flight: a removed node leaves the
 * selection at once and is closed when its last call has finished.
 */
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { secretsOf, type NodeCaps, type NodeConfig, type ResolvedConfig } from '../config/schema.js';
import { PistonClient } from '../piston/client.js';
import type { RuntimeListOutcome } from '../piston/outcome.js';
import type { PistonRuntime } from '../piston/types.js';
import { Redactor } from '../util/redact.js';
import { createStrategy, pickNode, type Random, type Strategy } from './balancer.js';
import type { BreakerState } from './breaker.js';
import { RuntimeCatalog, type CatalogEntry } from './catalog.js';
import { HostDispatcher } from './dispatcher.js';
import type { Fleet, LocalVerdict } from './fleet.js';
import { HealthChecker } from './health.js';
import { Host, type Ejection, type FleetEjection } from './host.js';
import { StallClock } from './liveness.js';
import { PoisonMemory } from './poison.js';
import type { FleetSummary, NodeStatus } from './status.js';

export type { NodeStatus } from './status.js';

export interface ClusterEvents {
  onBreakerChange?: (node: string, state: BreakerState) => void;
  onHealthCheck?: (node: string, ok: boolean) => void;
  onHealthChange?: (node: string, healthy: boolean) => void;
  onEjection?: (node: string, ejection: Ejection | undefined) => void;
  /** Attempts moved off a node that stopped answering. */
  onRedispatch?: (node: string, attempts: number) => void;
  onCatalogRefresh?: (node: string, outcome: 'ok' | 'error') => void;
  onCatalogLookup?: (node: string, outcome: 'hit' | 'miss') => void;
  /** Another process of the fleet took a node out of rotation (undefined: its verdict ended). */
  onFleetEjection?: (node: string, ejection: FleetEjection | undefined) => void;
}

export interface ClusterOptions {
  random?: Random;
  events?: ClusterEvents;
  /** Start active health checks (default true). */
  healthChecks?: boolean;
  /** Wait this long before the first round (a stdio server answers its client's first messages first). */
  healthChecksAfterMs?: number;
  /** The other pistom processes serving the same nodes (a shared store); absent: this process alone. */
  fleet?: Fleet;
  /** Identifies this process in ejection records; PROCESS_ID by default. */
  processId?: string;
}

/** This process's own reason to keep a node out of rotation, if any: its ejection, health, breaker. */
function localVerdict(host: Host): LocalVerdict | undefined {
  if (host.ejection) return { reason: host.ejection.reason, detail: host.ejection.detail };
  if (host.health === 'unhealthy') return { reason: 'unhealthy', detail: host.lastError?.message ?? 'failed its health checks' };
  if (host.breaker.state === 'open') return { reason: 'breaker_open', detail: host.lastError?.message ?? 'circuit breaker open', untilMs: Date.now() + host.breaker.retryAfterMs() };
  return undefined;
}

function publicEjection(ejection: FleetEjection): NodeStatus['ejected'] {
  return { reason: ejection.reason, detail: ejection.detail, at: ejection.at, by: ejection.by };
}

/** Identifies this process in ejection records (several pistom processes may share nodes). */
export const PROCESS_ID = `${process.pid}@${hostname()}`;

const POISON_MEMORY_MS = 10 * 60_000;

export class Cluster {
  private hosts = new Map<string, HostDispatcher>();
  private readonly draining = new Set<HostDispatcher>();
  readonly catalog: RuntimeCatalog;
  readonly poison = new PoisonMemory({ ttlMs: POISON_MEMORY_MS });
  private readonly health: HealthChecker;
  private readonly stallClock: StallClock;
  private strategy: Strategy;
  private config: ResolvedConfig;
  private redactor: Redactor;
  private closed = false;
  private merged: { lists: Map<string, PistonRuntime[]>; entries: CatalogEntry[] } | undefined;
  private readonly fleet: Fleet;
  readonly processId: string;

  constructor(
    config: ResolvedConfig,
    private readonly options: ClusterOptions = {},
  ) {
    this.config = config;
    this.redactor = new Redactor(secretsOf(config));
    const events = options.events ?? {};
    this.fleet = options.fleet ?? {};
    this.processId = options.processId ?? PROCESS_ID;
    this.strategy = createStrategy(config.balancer.strategy, options.random);
    this.stallClock = new StallClock({ minMs: config.health.probe_after_min_ms, maxMs: config.health.probe_after_max_ms });
    this.catalog = new RuntimeCatalog({
      ttlMs: config.catalog.ttl_ms,
      refreshAheadMs: config.catalog.refresh_ahead_ms,
      load: async (name, signal, maxAgeMs) => {
        const fetchFromNode = async () => {
          const dispatcher = this.requireHost(name);
          const outcome = await dispatcher.client.runtimes({ signal, timeoutMs: this.config.health.timeout_ms });
          this.noteListOutcome(dispatcher.host, outcome);
          if (!outcome.ok) throw new Error(outcome.fault.message);
          return outcome.runtimes;
        };
        return this.fleet.catalog ? this.fleet.catalog.load(name, maxAgeMs, fetchFromNode) : fetchFromNode();
      },
      onRefresh: events.onCatalogRefresh,
      onLookup: events.onCatalogLookup,
      failureBackoffMs: Math.min(config.health.interval_ms, 5000),
    });
    this.health = new HealthChecker({
      intervalMs: config.health.interval_ms,
      timeoutMs: config.health.timeout_ms,
      recheckMs: Math.min(config.health.interval_ms, 1000),
      probeTimeoutMs: config.health.probe_timeout_ms,
      unhealthyThreshold: config.health.unhealthy_threshold,
      healthyThreshold: config.health.healthy_threshold,
      onResult: (name, ok, runtimes) => {
        if (ok && runtimes) {
          this.catalog.put(name, runtimes);
          this.fleet.catalog?.put(name, runtimes);
        }
        events.onHealthCheck?.(name, ok);
      },
      onUnresponsive: (host, why) => this.redispatch(host, `node ${host.name} stopped answering: ${why}`),
    });
    this.applyNodes(config.nodes);
    if (options.healthChecks !== false) this.health.start(options.healthChecksAfterMs);
  }

  get settings(): ResolvedConfig {
    return this.config;
  }

  list(): HostDispatcher[] {
    return [...this.hosts.values()];
  }

  private requireHost(name: string): HostDispatcher {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`node ${name} is no longer configured`);
    return host;
  }

  /** Applies a new config: adds, removes and replaces nodes; calls in flight finish where they are. */
  reconfigure(config: ResolvedConfig): { added: string[]; removed: string[]; changed: string[] } {
    const hostSettingsChanged = !isDeepStrictEqual(config.breaker, this.config.breaker) || !isDeepStrictEqual(config.client, this.config.client) || config.catalog.max_runtimes !== this.config.catalog.max_runtimes;
    this.config = config;
    this.redactor = new Redactor(secretsOf(config));
    this.strategy = createStrategy(config.balancer.strategy, this.options.random);
    return this.applyNodes(config.nodes, hostSettingsChanged);
  }

  private createHost(config: NodeConfig): HostDispatcher {
    const events = this.options.events ?? {};
    const host = new Host(config, { breaker: this.config.breaker, processId: this.processId, mayOpenBreaker: () => this.mayOpenBreaker() }, {
      onBreakerChange: (node, state) => {
        events.onBreakerChange?.(node, state);
        this.announceVerdict(host);
      },
      onHealthChange: (node, healthy) => {
        events.onHealthChange?.(node, healthy);
        this.announceVerdict(host);
        if (!healthy) this.redispatch(host, `node ${node} failed its health checks`);
      },
      onEjection: (node, ejection) => {
        events.onEjection?.(node, ejection);
        this.announceVerdict(host);
      },
    });
    const client = new PistonClient({
      name: config.name,
      url: config.url,
      headers: config.headers,
      connections: Math.max(config.max_concurrent, this.config.client.connections),
      connectTimeoutMs: this.config.client.connect_timeout_ms,
      maxResponseBytes: this.config.client.max_response_bytes,
      maxRuntimes: this.config.catalog.max_runtimes,
      redactor: this.redactor,
    });
    return new HostDispatcher(host, client, {
      suspectWindowMs: this.config.breaker.rolling_window_ms,
      stallClock: this.stallClock,
      onStall: (stalled) => this.health.probe(stalled),
      slots: this.fleet.slots,
    });
  }

  /** Tells the fleet why this process keeps a node out of rotation now, or that it does not. */
  private announceVerdict(host: Host): void {
    if (!this.fleet.verdicts || this.hosts.get(host.name)?.host !== host) return;
    this.fleet.verdicts.announce(host.name, localVerdict(host));
  }

  /**
   * Other processes' verdicts on a node (from the shared store), the one that ends last first, or
   * none. A verdict of an open breaker is taken only within breaker.max_open_percent, as local
   * breakers are: a fault that hits every node alike must not empty the fleet's rotation.
   */
  applyFleetVerdicts(node: string, verdicts: FleetEjection[]): void {
    const dispatcher = this.hosts.get(node);
    if (!dispatcher) return;
    const host = dispatcher.host;
    const before = host.fleetEjection;
    const active = verdicts.filter((verdict) => verdict.until > Date.now() && verdict.by !== this.processId).sort((a, b) => b.until - a.until);
    const chosen = active.find((verdict) => verdict.reason !== 'breaker_open' || before?.reason === 'breaker_open' || this.mayTakeOutForFleet(host));
    host.setFleetEjection(chosen);
    if (chosen && !before) {
      this.options.events?.onFleetEjection?.(node, chosen);
      if (chosen.reason === 'unresponsive' || chosen.reason === 'unhealthy') this.redispatch(host, `node ${node} is out of rotation (${chosen.reason}, seen by ${chosen.by})`);
    } else if (!chosen && before) {
      this.options.events?.onFleetEjection?.(node, undefined);
    }
  }

  private mayTakeOutForFleet(candidate: Host): boolean {
    const hosts = [...this.hosts.values()].map((dispatcher) => dispatcher.host);
    const out = hosts.filter((host) => host !== candidate && (host.breaker.state !== 'closed' || host.fleetEjection?.reason === 'breaker_open')).length;
    const allowed = Math.max(1, Math.floor((hosts.length * this.config.breaker.max_open_percent) / 100));
    return out < allowed;
  }

  /**
   * Outlier detection never takes more than breaker.max_open_percent of the nodes out at once
   * (at least one): when faults hit every node alike (the network, a shared dependency), keeping
   * some nodes in rotation serves more calls than refusing them all.
   */
  private mayOpenBreaker(): boolean {
    const hosts = [...this.hosts.values()];
    const open = hosts.filter((dispatcher) => dispatcher.host.breaker.state !== 'closed').length;
    const allowed = Math.max(1, Math.floor((hosts.length * this.config.breaker.max_open_percent) / 100));
    return open < allowed;
  }

  private applyNodes(configs: NodeConfig[], forceReplace = false): { added: string[]; removed: string[]; changed: string[] } {
    const added: string[] = [];
    const removed: string[] = [];
    const changed: string[] = [];
    const next = new Map<string, HostDispatcher>();
    for (const nodeConfig of configs) {
      const existing = this.hosts.get(nodeConfig.name);
      if (existing && !forceReplace && isDeepStrictEqual(existing.host.config, nodeConfig)) {
        next.set(nodeConfig.name, existing);
        continue;
      }
      if (existing) {
        changed.push(nodeConfig.name);
        this.retire(existing);
      } else {
        added.push(nodeConfig.name);
      }
      next.set(nodeConfig.name, this.createHost(nodeConfig));
    }
    for (const [name, dispatcher] of this.hosts) {
      if (!next.has(name)) {
        removed.push(name);
        this.retire(dispatcher);
      }
    }
    this.hosts = next;
    this.catalog.setNodes([...next.keys()]);
    for (const name of changed) void this.catalog.refresh(name);
    this.health.setTargets([...next.values()].map((dispatcher) => ({ host: dispatcher.host, check: (timeoutMs: number) => dispatcher.client.runtimes({ timeoutMs }) })));
    return { added, removed, changed };
  }

  private retire(dispatcher: HostDispatcher): void {
    // Whatever this process said of the node no longer holds: its successor (if any) starts afresh.
    this.fleet.verdicts?.announce(dispatcher.host.name, undefined);
    this.draining.add(dispatcher);
    void dispatcher.drain().then(() => {
      this.draining.delete(dispatcher);
      return dispatcher.close();
    });
  }

  /** A runtime list fetched outside the health checker: a node that is not Piston is ejected. */
  private noteListOutcome(host: Host, outcome: RuntimeListOutcome): void {
    if (outcome.ok) host.lastAnswerAt = performance.now();
    else if (outcome.fault.reason === 'misconfigured') host.eject('misconfigured', outcome.fault.message);
  }

  private redispatch(host: Host, why: string): void {
    const dispatcher = this.hosts.get(host.name);
    if (!dispatcher || dispatcher.host !== host) return;
    const moved = dispatcher.abortInFlight(why);
    if (moved > 0) this.options.events?.onRedispatch?.(host.name, moved);
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

  /** The caps configured for a node (what it accepts), undefined for a node no longer configured. */
  capsOf(name: string): NodeCaps | undefined {
    return this.hosts.get(name)?.host.config.caps;
  }

  /** Fetches one node's runtime list again now (it said a runtime it listed is unknown). */
  async refreshRuntimes(name: string): Promise<void> {
    await this.catalog.refresh(name);
  }

  /** The shared store's state, when there is one. */
  fleetSummary(): FleetSummary | undefined {
    return this.fleet.describe?.();
  }

  /** Health-check round now (tests and `pistom check`). */
  checkHealth(): Promise<void> {
    return this.health.checkAll();
  }

  /**
   * Picks a host among `names` that can take traffic, never one in `exclude`, and one not in
   * `avoid` while there is such a host.
   */
  pick(names: readonly string[], exclude: ReadonlySet<string> = new Set(), avoid: ReadonlySet<string> = new Set()): HostDispatcher | undefined {
    const available: Host[] = [];
    for (const name of names) {
      const dispatcher = this.hosts.get(name);
      if (dispatcher && dispatcher.host.available && !exclude.has(name)) available.push(dispatcher.host);
    }
    const preferred = available.filter((host) => !avoid.has(host.name));
    const host = pickNode(this.strategy, preferred.length > 0 ? preferred : available);
    return host ? this.hosts.get(host.name) : undefined;
  }

  /** True once the first round of health checks has finished and found a node that can serve. */
  ready(): boolean {
    const hosts = this.list().map((dispatcher) => dispatcher.host);
    if (this.options.healthChecks === false) return hosts.some((host) => host.available);
    return this.health.firstRoundDone && hosts.some((host) => host.serving);
  }

  /** Slots held on a node by the whole fleet, as last read from the shared store; undefined without one. */
  fleetSlotsHeld(name: string): number | undefined {
    return this.fleet.figures?.(name)?.slotsHeld;
  }

  status(): NodeStatus[] {
    return this.list().map(({ host, client }) => {
      const slotsHeld = this.fleetSlotsHeld(host.name);
      const latency = host.latency.get();
      return {
      name: host.name,
      url: client.baseUrl,
      health: host.health,
      breaker: host.breaker.state,
      breaker_retry_after_ms: host.breaker.retryAfterMs(),
      ...(host.ejection ? { ejected: host.ejection } : host.fleetEjection ? { ejected: publicEjection(host.fleetEjection) } : {}),
      ...(slotsHeld === undefined ? {} : { fleet_slots_held: slotsHeld }),
      in_flight: host.inFlight,
      queued: host.queued,
      max_concurrent: host.config.max_concurrent,
      tier: host.config.tier,
      weight: host.config.weight,
      ...(latency === undefined ? {} : { latency_ms: Math.round(latency * 10) / 10 }),
      completed: host.completed,
      faults: host.faults,
      runtimes: (this.catalog.peek(host.name) ?? []).map((runtime: PistonRuntime) => `${runtime.language}-${runtime.version}`),
      ...(host.lastError ? { last_error: host.lastError } : {}),
      };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    this.catalog.clear();
    this.poison.clear();
    await Promise.all([...this.hosts.values(), ...this.draining].map((dispatcher) => dispatcher.close()));
    this.hosts.clear();
    this.draining.clear();
  }
}
