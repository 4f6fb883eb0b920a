/**
 * A circuit breaker with three outcomes instead of two. opossum (used before) records any error
 * its errorFilter lets through as a success, and settles its half-open probe inside `fire()`; so a
 * probe that the client cancelled, or that got a 400, closed the breaker, and an outcome whose
 * verdict comes later (a suspect fault, confirmed or absolved by the retry on another node) could
 * not be recorded at all. Here the caller takes a permit and records `success`, `failure` or
 * `neutral` whenever it knows; a neutral probe hands the half-open slot back.
 *
 * closed → open: failures reach `errorThresholdPercentage` of at least `volumeThreshold` outcomes
 * in the rolling window, or `consecutiveFailures` in a row (outlier detection: a node that dies in
 * a busy window keeps a low rate for a while), unless `mayOpen` says no. open → half_open after
 * `resetTimeoutMs`; one probe at a time; its success closes, its failure reopens.
 */
export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  errorThresholdPercentage: number;
  volumeThreshold: number;
  consecutiveFailures: number;
  windowMs: number;
  resetTimeoutMs: number;
  buckets?: number;
  /**
   * Asked before the counts open the breaker: false keeps it closed (the cluster caps how many
   * breakers may be open at once, so that a fault of the whole network cannot take every node out).
   */
  mayOpen?: () => boolean;
  onChange?: (state: BreakerState) => void;
  now?: () => number;
}

/** Permission to send one attempt; record its outcome exactly once. */
export interface Permit {
  readonly probe: boolean;
}

interface Bucket {
  start: number;
  successes: number;
  failures: number;
}

export class Breaker {
  private stateValue: BreakerState = 'closed';
  private openedAt = 0;
  private probeOut = false;
  private consecutive = 0;
  private readonly buckets: Bucket[] = [];
  private readonly bucketMs: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly recorded = new WeakSet<Permit>();

  constructor(private readonly options: BreakerOptions) {
    this.bucketMs = Math.max(1, Math.floor(options.windowMs / (options.buckets ?? 10)));
    this.now = options.now ?? (() => performance.now());
  }

  get state(): BreakerState {
    return this.stateValue;
  }

  /** Whether an attempt would be let through now (closed, or half-open with the probe free). */
  get allows(): boolean {
    return this.stateValue === 'closed' || (this.stateValue === 'half_open' && !this.probeOut);
  }

  /** A permit for one attempt, or undefined when the breaker refuses. */
  tryAcquire(): Permit | undefined {
    if (this.stateValue === 'closed') return { probe: false };
    if (this.stateValue === 'half_open' && !this.probeOut) {
      this.probeOut = true;
      return { probe: true };
    }
    return undefined;
  }

  record(permit: Permit, outcome: 'success' | 'failure' | 'neutral'): void {
    if (this.recorded.has(permit)) return;
    this.recorded.add(permit);
    if (permit.probe) {
      this.probeOut = false;
      if (this.stateValue !== 'half_open') return;
      if (outcome === 'success') this.close();
      else if (outcome === 'failure') this.trip();
      return;
    }
    if (outcome === 'neutral') return;
    const bucket = this.currentBucket();
    if (outcome === 'success') {
      bucket.successes++;
      this.consecutive = 0;
      return;
    }
    bucket.failures++;
    this.consecutive++;
    if (this.stateValue === 'closed' && this.shouldOpen() && (this.options.mayOpen?.() ?? true)) this.trip();
  }

  /** Opens the breaker now, whatever the counts (a node that failed its liveness probe). */
  forceOpen(): void {
    if (this.stateValue !== 'open') this.trip();
  }

  /** Time left until an open breaker lets a probe through; 0 when it is not open. */
  retryAfterMs(): number {
    if (this.stateValue !== 'open') return 0;
    return Math.max(0, Math.ceil(this.openedAt + this.options.resetTimeoutMs - this.now()));
  }

  /** Counts in the rolling window (for status output). */
  window(): { successes: number; failures: number } {
    this.prune();
    let successes = 0;
    let failures = 0;
    for (const bucket of this.buckets) {
      successes += bucket.successes;
      failures += bucket.failures;
    }
    return { successes, failures };
  }

  close(): void {
    this.clearTimer();
    this.buckets.length = 0;
    this.consecutive = 0;
    this.probeOut = false;
    this.set('closed');
  }

  /** Releases the timer; the breaker keeps its state. */
  dispose(): void {
    this.clearTimer();
  }

  private shouldOpen(): boolean {
    if (this.consecutive >= this.options.consecutiveFailures) return true;
    const { successes, failures } = this.window();
    const total = successes + failures;
    return total >= this.options.volumeThreshold && (failures * 100) / total >= this.options.errorThresholdPercentage;
  }

  private trip(): void {
    this.clearTimer();
    this.openedAt = this.now();
    this.probeOut = false;
    this.set('open');
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.set('half_open');
    }, this.options.resetTimeoutMs);
    this.timer.unref();
  }

  private set(state: BreakerState): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    this.options.onChange?.(state);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private currentBucket(): Bucket {
    this.prune();
    const now = this.now();
    const last = this.buckets.at(-1);
    if (last && now - last.start < this.bucketMs) return last;
    const bucket = { start: now, successes: 0, failures: 0 };
    this.buckets.push(bucket);
    return bucket;
  }

  private prune(): void {
    const cutoff = this.now() - this.options.windowMs;
    while (this.buckets.length > 0 && this.buckets[0]!.start <= cutoff) this.buckets.shift();
  }
}
