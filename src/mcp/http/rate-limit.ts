/**
 * Per-client token buckets for /mcp: each client (its key from guards.ts clientKeyOf) may send
 * `burst` calls at once and `perSecond` on average; past that it is told when to come back (429
 * with Retry-After). A batch costs one token per message. Buckets refill lazily on use, so there is
 * no timer to close.
 *
 * The HTTP front only knows the RateLimiter interface, so that a shared limiter (one bucket per
 * client across replicas) can replace this one; its `take` may then answer with a promise.
 */

export interface RateLimitOptions {
  perSecond: number;
  burst: number;
  /** Clients remembered at most; full (idle) buckets are forgotten first. Default 10,000. */
  maxClients?: number;
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A per-client limit: this process's buckets, or one shared by the fleet (src/shared). */
export interface RateLimiter {
  /** Takes `cost` tokens (1 per call) from this client's bucket, or says how long until they are there. */
  take(clientKey: string, cost?: number): RateDecision | Promise<RateDecision>;
  /** The limit in words, for error messages, e.g. "5 requests per second (bursts of 10)". */
  describe(): string;
  /** The most a client may spend at once: a batch costing more is refused whatever the wait. */
  readonly burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class ClientRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) throw new RangeError('rate limit needs per_second > 0 and burst >= 1');
    this.perMs = options.perSecond / 1000;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? (() => performance.now());
  }

  get burst(): number {
    return this.options.burst;
  }

  /** Takes `cost` tokens from this client's bucket, or says how long until there are that many. */
  take(clientKey: string, cost = 1): RateDecision {
    const now = this.now();
    const bucket = this.refilled(clientKey, now);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return { allowed: true };
    }
    const waitMs = (Math.min(cost, this.options.burst) - bucket.tokens) / this.perMs;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  describe(): string {
    return `${this.options.perSecond} requests per second (bursts of ${this.options.burst})`;
  }

  /** Clients currently tracked (for tests and status). */
  get size(): number {
    return this.buckets.size;
  }

  private refilled(clientKey: string, now: number): Bucket {
    let bucket = this.buckets.get(clientKey);
    if (!bucket) {
      this.makeRoom(now);
      bucket = { tokens: this.options.burst, updatedMs: now };
      this.buckets.set(clientKey, bucket);
      return bucket;
    }
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedMs) * this.perMs);
    bucket.updatedMs = now;
    return bucket;
  }

  /**
   * Keeps memory bounded however many clients show up: drop buckets that have refilled (they
   * hold no state worth keeping), then, if every bucket is still busy, the oldest ones.
   */
  private makeRoom(now: number): void {
    if (this.buckets.size < this.maxClients) return;
    const fullAfterMs = this.options.burst / this.perMs;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedMs >= fullAfterMs) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxClients) break;
      this.buckets.delete(key);
    }
  }
}
