/**
 * One node of the cluster as the router sees it: the wire client, a limiter (concurrency and
 * optional rate, p-queue), a circuit breaker that counts node faults only (opossum), and the
 * load and latency figures the balancer reads.
 */
import CircuitBreaker from 'opossum';
import PQueue from 'p-queue';
import { PistonClient } from '../piston/client.js';
import { NodeFaultError } from '../piston/errors.js';
import type { PistonExecuteResponse } from '../piston/types.js';
import type { Config, NodeConfig } from '../config/schema.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface NodeEvents {
  onBreakerChange?: (node: string, state: BreakerState) => void;
}

/** Exponentially weighted moving average with a time-independent weight. */
class Ewma {
  private value: number | undefined;
  private sampledAt = 0;
  constructor(private readonly alpha: number) {}
  add(sample: number): void {
    this.value = this.value === undefined ? sample : this.value + this.alpha * (sample - this.value);
    this.sampledAt = performance.now();
  }
  get(): number | undefined {
    return this.value;
  }
  /**
   * The average halved every `halfLifeMs` without a new sample. A node that was slow once and then
   * got no traffic would otherwise look slow forever and never be picked to show it recovered.
   */
  decayed(halfLifeMs: number): number | undefined {
    if (this.value === undefined) return undefined;
    return this.value * 0.5 ** ((performance.now() - this.sampledAt) / halfLifeMs);
  }
  reset(): void {
    this.value = undefined;
  }
}

const LATENCY_HALF_LIFE_MS = 2_000;

export interface ExecuteAttempt {
  body: string;
  timeoutMs: number;
  signal: AbortSignal;
}

export class ClusterNode {
  readonly name: string;
  readonly config: NodeConfig;
  readonly client: PistonClient;
  private readonly limiter: PQueue;
  private readonly breaker: CircuitBreaker<[ExecuteAttempt], PistonExecuteResponse>;
  private readonly latency = new Ewma(0.2);
  private running = 0;
  private readonly breakerResetMs: number;
  private readonly consecutiveFaultLimit: number;
  private consecutiveFaults = 0;
  healthy = true;
  lastError: { message: string; at: string } | undefined;
  completed = 0;
  faults = 0;

  constructor(config: NodeConfig, settings: Pick<Config, 'breaker' | 'client'>, events: NodeEvents = {}) {
    this.name = config.name;
    this.config = config;
    this.client = new PistonClient({
      name: config.name,
      url: config.url,
      headers: config.headers,
      connections: Math.max(config.max_concurrent, settings.client.connections),
      connectTimeoutMs: settings.client.connect_timeout_ms,
      maxResponseBytes: settings.client.max_response_bytes,
    });
    this.limiter = new PQueue({
      concurrency: config.max_concurrent,
      ...(config.rate_limit ? { intervalCap: config.rate_limit.requests, interval: config.rate_limit.interval_ms, carryoverIntervalCount: true } : {}),
    });
    this.breakerResetMs = settings.breaker.reset_timeout_ms;
    this.consecutiveFaultLimit = settings.breaker.consecutive_failures;
    this.breaker = new CircuitBreaker((attempt: ExecuteAttempt) => this.client.execute(attempt.body, attempt), {
      timeout: false,
      errorThresholdPercentage: settings.breaker.error_threshold_percentage,
      volumeThreshold: settings.breaker.volume_threshold,
      rollingCountTimeout: settings.breaker.rolling_window_ms,
      rollingCountBuckets: 10,
      resetTimeout: settings.breaker.reset_timeout_ms,
      // Only node faults count against the breaker: program outcomes are 200s, and request errors
      // and cancellations say nothing about the node's health.
      errorFilter: (error: unknown) => !(error instanceof NodeFaultError),
    });
    this.breaker.on('open', () => events.onBreakerChange?.(this.name, 'open'));
    this.breaker.on('halfOpen', () => {
      // The latency seen before the breaker opened (timeouts, hangs) would keep the balancer from
      // ever picking this node for its probe, and the node would never come back.
      this.latency.reset();
      events.onBreakerChange?.(this.name, 'half_open');
    });
    this.breaker.on('close', () => events.onBreakerChange?.(this.name, 'closed'));
  }

  get breakerState(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half_open';
    return 'closed';
  }

  /** Whether the breaker would let a call through now (closed, or half-open with the probe unused). */
  get breakerAllows(): boolean {
    return this.breaker.closed || (this.breaker.halfOpen && this.breaker.pendingClose);
  }

  /** Can take traffic at all. */
  get available(): boolean {
    return this.healthy && this.breakerAllows;
  }

  get inFlight(): number {
    return this.running;
  }

  /** Calls waiting in this node's limiter. */
  get queued(): number {
    return this.limiter.size;
  }

  get saturated(): boolean {
    return this.limiter.pending + this.limiter.size >= this.config.max_concurrent;
  }

  get latencyMs(): number | undefined {
    return this.latency.get();
  }

  /** Load score for the balancer: outstanding work scaled by the node's size, times its latency. */
  loadScore(): number {
    const outstanding = (this.limiter.pending + this.limiter.size + 1) / this.config.max_concurrent;
    return outstanding * Math.max(1, this.latency.decayed(LATENCY_HALF_LIFE_MS) ?? 1);
  }

  /** Runs one attempt through the limiter and the breaker. Throws the classified error. */
  async execute(attempt: ExecuteAttempt): Promise<PistonExecuteResponse> {
    return this.limiter.add(
      async () => {
        this.running++;
        const started = performance.now();
        try {
          const result = await this.breaker.fire(attempt);
          this.latency.add(performance.now() - started);
          this.completed++;
          this.consecutiveFaults = 0;
          return result;
        } catch (error) {
          if (error instanceof NodeFaultError) {
            this.faults++;
            // Outlier detection: a run of faults opens the breaker even when a busy window of
            // earlier successes keeps the failure rate under the threshold.
            if (++this.consecutiveFaults >= this.consecutiveFaultLimit && !this.breaker.opened) this.breaker.open();
            this.latency.add(performance.now() - started);
            this.lastError = { message: error.message, at: new Date().toISOString() };
          }
          throw this.translateBreakerError(error);
        } finally {
          this.running--;
        }
      },
      { signal: attempt.signal },
    );
  }

  private translateBreakerError(error: unknown): unknown {
    if ((error as { code?: string })?.code === 'EOPENBREAKER') {
      return new NodeFaultError(`node ${this.name} is unavailable (circuit breaker open)`, this.name, 'connect', false);
    }
    return error;
  }

  /** Remaining ms until an open breaker lets a probe through, if known. */
  breakerRetryAfterMs(): number {
    return this.breaker.opened ? this.breakerResetMs : 0;
  }


  /** Resolves when no call is running or waiting on this node. */
  async drain(): Promise<void> {
    await this.limiter.onIdle();
  }

  async close(): Promise<void> {
    this.limiter.clear();
    this.breaker.shutdown();
    await this.client.close();
  }
}
