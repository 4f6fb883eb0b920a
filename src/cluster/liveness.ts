/**
 * When to suspect that a node has stopped answering: an attempt that has waited longer than the
 * cluster usually takes to answer (twice the 95th percentile of recent answers, within bounds),
 * on a node that has answered nothing meanwhile. Suspicion costs one liveness probe; only a failed
 * probe takes the node out of rotation, so a legitimately long run is never cut short.
 */
const SAMPLES = 256;
const RECOMPUTE_EVERY = 32;
const MIN_SAMPLES = 20;

export interface LivenessBounds {
  minMs: number;
  maxMs: number;
}

export class StallClock {
  private readonly samples = new Float64Array(SAMPLES);
  private count = 0;
  private sinceRecompute = 0;
  private threshold: number;

  constructor(private readonly bounds: LivenessBounds) {
    this.threshold = bounds.maxMs;
  }

  /** One answered attempt's duration. */
  observe(ms: number): void {
    this.samples[this.count % SAMPLES] = ms;
    this.count++;
    if (++this.sinceRecompute >= RECOMPUTE_EVERY && this.count >= MIN_SAMPLES) this.recompute();
  }

  /** How long an attempt may wait on a silent node before the node is probed. */
  probeAfterMs(): number {
    return this.threshold;
  }

  private recompute(): void {
    this.sinceRecompute = 0;
    const filled = this.samples.slice(0, Math.min(this.count, SAMPLES)).sort();
    const p95 = filled[Math.min(filled.length - 1, Math.floor(filled.length * 0.95))]!;
    this.threshold = Math.min(this.bounds.maxMs, Math.max(this.bounds.minMs, 2 * p95));
  }
}
