/**
 * The host view: one record per node that every part of the cluster reads and writes, as in
 * Envoy's cluster manager. The health checker writes `health`; the outlier detector and the
 * health checker write `ejection`; the dispatcher writes the load and latency figures and records
 * outcomes in the breaker; the balancer reads `available`, `saturated` and `loadScore()`.
 */
import type { NodeConfig } from '../config/schema.js';
import { Breaker, type BreakerState } from './breaker.js';

export type HostHealth = 'unknown' | 'healthy' | 'unhealthy';

/** Why a node is out of rotation besides its breaker and its health checks. */
export type EjectionReason = 'misconfigured' | 'unresponsive';

/** Why another process of the fleet took a node out of rotation: its ejections, breakers and health checks. */
export type FleetEjectionReason = EjectionReason | 'breaker_open' | 'unhealthy';

export interface Ejection {
  reason: EjectionReason;
  /** What was seen, in pistom's words (no secrets). */
  detail: string;
  at: string;
  /** Which pistom process ejected the node (this one: its pid@hostname). */
  by: string;
}

/** Another process's verdict on a node, as the fleet's shared store carries it. */
export interface FleetEjection {
  reason: FleetEjectionReason;
  detail: string;
  at: string;
  by: string;
  /** Epoch ms after which the verdict no longer holds unless its process renews it. */
  until: number;
}

/** What the balancer needs of a host, and nothing else. */
export interface BalancedHost {
  readonly name: string;
  readonly tier: number;
  readonly weight: number;
  readonly saturated: boolean;
  loadScore(): number;
}

export interface HostEvents {
  onBreakerChange?: (node: string, state: BreakerState) => void;
  onHealthChange?: (node: string, healthy: boolean) => void;
  onEjection?: (node: string, ejection: Ejection | undefined) => void;
}

export interface HostSettings {
  breaker: { error_threshold_percentage: number; volume_threshold: number; consecutive_failures: number; rolling_window_ms: number; reset_timeout_ms: number };
  /** Whether one more breaker may open in this cluster now. */
  mayOpenBreaker?: () => boolean;
  /** Identifies this process in ejection records. */
  processId: string;
}

/** Exponentially weighted moving average whose value halves every `halfLifeMs` without samples. */
export class DecayingAverage {
  private value: number | undefined;
  private sampledAt = 0;
  constructor(
    private readonly alpha: number,
    private readonly halfLifeMs: number,
  ) {}

  add(sample: number, now = performance.now()): void {
    this.value = this.value === undefined ? sample : this.value + this.alpha * (sample - this.value);
    this.sampledAt = now;
  }

  /** The raw average (status output). */
  get(): number | undefined {
    return this.value;
  }

  /**
   * The average, decayed since the last sample: a node that was slow once and then got no traffic
   * would otherwise look slow forever and never be picked to show that it recovered.
   */
  decayed(now = performance.now()): number | undefined {
    if (this.value === undefined) return undefined;
    return this.value * 0.5 ** ((now - this.sampledAt) / this.halfLifeMs);
  }

  reset(): void {
    this.value = undefined;
  }
}

const LATENCY_HALF_LIFE_MS = 2_000;

export class Host implements BalancedHost {
  readonly name: string;
  readonly config: NodeConfig;
  readonly breaker: Breaker;
  readonly latency = new DecayingAverage(0.2, LATENCY_HALF_LIFE_MS);
  private healthValue: HostHealth = 'unknown';
  private ejectionValue: Ejection | undefined;
  private fleetEjectionValue: FleetEjection | undefined;
  /** Attempts sending or waiting for their answer on this node. */
  inFlight = 0;
  /** Attempts waiting in this node's limiter. */
  queued = 0;
  /** When the node last answered anything (an execute answer, a health check): liveness. */
  lastAnswerAt = performance.now();
  completed = 0;
  faults = 0;
  lastError: { message: string; at: string } | undefined;

  constructor(
    config: NodeConfig,
    private readonly settings: HostSettings,
    private readonly events: HostEvents = {},
  ) {
    this.name = config.name;
    this.config = config;
    const breaker = settings.breaker;
    this.breaker = new Breaker({
      errorThresholdPercentage: breaker.error_threshold_percentage,
      volumeThreshold: breaker.volume_threshold,
      consecutiveFailures: breaker.consecutive_failures,
      windowMs: breaker.rolling_window_ms,
      resetTimeoutMs: breaker.reset_timeout_ms,
      mayOpen: settings.mayOpenBreaker,
      onChange: (state) => {
        // The latency seen before the breaker opened (timeouts, hangs) would keep the balancer
        // from ever picking this node for its probe, and the node would never come back.
        if (state === 'half_open') this.latency.reset();
        events.onBreakerChange?.(this.name, state);
      },
    });
  }

  get tier(): number {
    return this.config.tier;
  }

  get weight(): number {
    return this.config.weight;
  }

  get health(): HostHealth {
    return this.healthValue;
  }

  set health(value: HostHealth) {
    if (value === this.healthValue) return;
    const before = this.healthValue;
    this.healthValue = value;
    if (value !== 'unknown' && !(before === 'unknown' && value === 'healthy')) this.events.onHealthChange?.(this.name, value === 'healthy');
  }

  get ejection(): Ejection | undefined {
    return this.ejectionValue;
  }

  eject(reason: EjectionReason, detail: string): void {
    if (this.ejectionValue?.reason === reason) return;
    this.ejectionValue = { reason, detail, at: new Date().toISOString(), by: this.settings.processId };
    this.events.onEjection?.(this.name, this.ejectionValue);
  }

  readmit(): void {
    if (!this.ejectionValue) return;
    this.ejectionValue = undefined;
    this.events.onEjection?.(this.name, undefined);
  }

  /** Another process's verdict that keeps this node out of rotation now (shared store only). */
  get fleetEjection(): FleetEjection | undefined {
    const value = this.fleetEjectionValue;
    return value && value.until > Date.now() ? value : undefined;
  }

  setFleetEjection(value: FleetEjection | undefined): void {
    this.fleetEjectionValue = value;
  }

  /** Can take traffic now: not failing its health checks, not ejected here or by the fleet, breaker letting calls through. */
  get available(): boolean {
    return this.healthValue !== 'unhealthy' && this.ejectionValue === undefined && this.breaker.allows && this.fleetEjection === undefined;
  }

  /** Can serve, as readiness means it: checked healthy, not ejected, breaker not open. */
  get serving(): boolean {
    return this.healthValue === 'healthy' && this.ejectionValue === undefined && this.breaker.state !== 'open' && this.fleetEjection === undefined;
  }

  get saturated(): boolean {
    return this.inFlight + this.queued >= this.config.max_concurrent;
  }

  /** Load score for the balancer: outstanding work scaled by the node's size, times its latency. */
  loadScore(): number {
    const outstanding = (this.inFlight + this.queued + 1) / this.config.max_concurrent;
    return outstanding * Math.max(1, this.latency.decayed() ?? 1);
  }

  noteFault(message: string): void {
    this.faults++;
    this.lastError = { message, at: new Date().toISOString() };
  }

  close(): void {
    this.breaker.dispose();
  }
}
