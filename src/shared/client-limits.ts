/**
 * Per-client rate limits for /mcp held across the fleet, with rate-limiter-flexible: the counters
 * live in Redis, and while Redis is unreachable the same limit is kept in this process
 * (rate-limiter-flexible's insurance limiter), so a client gets at most one limit per process.
 *
 * Without a shared store, a process limits a client with a token bucket (per_second, burst:
 * mcp/http/rate-limit.ts); here, in Redis and in the insurance limiter alike, it is a fixed window,
 * because rate-limiter-flexible counts in windows of whole seconds: W = max(1, round(burst / per_second))
 * seconds holding max(1, round(per_second × W)) requests: the same average rate, and bursts of
 * about `burst`.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateDecision, RateLimiter } from '../mcp/http/rate-limit.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';
import { fixedWindow } from './slots.js';

export interface FleetClientLimitOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  perSecond: number;
  burst: number;
}

/** A client's bucket (`burst` at most, refilled at `perSecond`) as a whole-second window: `burst` requests per the time the rate takes to send them. */
export function clientWindow(perSecond: number, burst: number): { points: number; duration: number } {
  return fixedWindow(burst, (1000 * burst) / perSecond);
}

export class FleetClientLimit implements RateLimiter {
  private readonly limiter: RateLimiterRedis;
  private readonly local: RateLimiterMemory;
  private readonly window: { points: number; duration: number };

  constructor(private readonly options: FleetClientLimitOptions) {
    this.window = clientWindow(options.perSecond, options.burst);
    this.local = new RateLimiterMemory(this.window);
    this.limiter = new RateLimiterRedis({
      storeClient: options.connection.client,
      keyPrefix: options.keys.clients,
      ...this.window,
      // Redis away: ask the local limiter at once instead of waiting on a connection.
      rejectIfRedisNotReady: true,
      insuranceLimiter: this.local,
    });
  }

  /** The most a client may spend at once (a batch costing more is refused whatever the wait). */
  get burst(): number {
    return this.options.burst;
  }

  async take(clientKey: string, cost = 1): Promise<RateDecision> {
    try {
      // Known to be down (or slow): no command that would only time out.
      await (this.options.connection.up ? this.limiter : this.local).consume(clientKey, cost);
      return { allowed: true };
    } catch (error) {
      if (error instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
      // Neither Redis nor the insurance limiter answered: let the request through rather than fail it.
      this.options.connection.failed(error);
      return { allowed: true };
    }
  }

  describe(): string {
    return `${this.window.points} requests per ${this.window.duration} s across the fleet (${this.options.perSecond} per second, bursts of ${this.options.burst})`;
  }
}
