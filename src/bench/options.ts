/**
 * The options of one bench run: a zod schema for the programmatic API (runBench) and the hard
 * bounds that make every run stop by itself.
 */
import { z } from 'zod';

export const LIMITS = {
  maxConcurrency: 4096,
  maxRate: 100_000,
  maxInFlight: 65_536,
  maxDurationMs: 3_600_000,
  maxRequests: 10_000_000,
  maxTimeoutMs: 600_000,
  maxNodes: 64,
} as const;

export const DEFAULTS = {
  concurrency: 8,
  durationMs: 10_000,
  timeoutMs: 30_000,
  maxInFlight: 1024,
  workload: 'hello',
} as const;

const httpUrl = z
  .string()
  .refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

export const TargetSpec = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('piston'), urls: z.array(httpUrl).min(1).max(LIMITS.maxNodes) }),
  z.object({ kind: z.literal('mcp-http'), url: httpUrl }),
  z.object({ kind: z.literal('mcp-stdio'), command: z.string().trim().min(1) }),
]);
export type TargetSpec = z.infer<typeof TargetSpec>;

const positiveInt = (max: number) => z.number().int().min(1).max(max);
const nonNegativeInt = (max: number) => z.number().int().min(0).max(max);

export const BenchOptionsSchema = z
  .object({
    target: TargetSpec,
    /** Sent with every HTTP request to the target; values are never printed or written. */
    headers: z.record(z.string(), z.string()).default({}),
    /** Closed loop: this many requests outstanding at all times. Exclusive with rate. */
    concurrency: positiveInt(LIMITS.maxConcurrency).optional(),
    /** Open loop: requests per second at a constant arrival rate. Exclusive with concurrency. */
    rate: z.number().positive().max(LIMITS.maxRate).optional(),
    /** Open loop: at most this many requests at the target; the rest wait (and their wait is counted). */
    maxInFlight: positiveInt(LIMITS.maxInFlight).default(DEFAULTS.maxInFlight),
    durationMs: positiveInt(LIMITS.maxDurationMs).optional(),
    requests: positiveInt(LIMITS.maxRequests).optional(),
    warmupMs: nonNegativeInt(LIMITS.maxDurationMs).default(0),
    warmupRequests: nonNegativeInt(LIMITS.maxRequests).default(0),
    rampMs: nonNegativeInt(LIMITS.maxDurationMs).default(0),
    workload: z.string().min(1).default(DEFAULTS.workload),
    timeoutMs: positiveInt(LIMITS.maxTimeoutMs).default(DEFAULTS.timeoutMs),
    /** Seeds the weighted choice of requests, so two runs send the same sequence. */
    seed: z.number().int().default(1),
  })
  .refine((o) => o.concurrency === undefined || o.rate === undefined, {
    message: 'concurrency (closed loop) and rate (open loop) are exclusive',
    path: ['rate'],
  })
  .refine((o) => o.target.kind !== 'mcp-stdio' || Object.keys(o.headers).length === 0, {
    message: 'headers apply to HTTP targets only, not to an MCP stdio target',
    path: ['headers'],
  });

export type BenchOptionsInput = z.input<typeof BenchOptionsSchema>;

export type LoadShape =
  | { mode: 'closed'; concurrency: number }
  | { mode: 'open'; rate: number; maxInFlight: number };

/** Options with defaults applied and bounds resolved: what the run actually uses. */
export interface ResolvedBenchOptions {
  target: TargetSpec;
  headers: Record<string, string>;
  load: LoadShape;
  /** The measured phase ends at this duration even if `requests` is not reached. */
  durationMs: number;
  requests: number | undefined;
  warmupMs: number;
  warmupRequests: number;
  rampMs: number;
  workload: string;
  timeoutMs: number;
  seed: number;
}

export function resolveBenchOptions(input: BenchOptionsInput): ResolvedBenchOptions {
  const o = BenchOptionsSchema.parse(input);
  const load: LoadShape =
    o.rate !== undefined
      ? { mode: 'open', rate: o.rate, maxInFlight: o.maxInFlight }
      : { mode: 'closed', concurrency: o.concurrency ?? DEFAULTS.concurrency };
  const durationMs = o.durationMs ?? (o.requests !== undefined ? LIMITS.maxDurationMs : DEFAULTS.durationMs);
  return {
    target: o.target,
    headers: o.headers,
    load,
    durationMs,
    requests: o.requests,
    warmupMs: o.warmupMs,
    warmupRequests: o.warmupRequests,
    rampMs: o.rampMs,
    workload: o.workload,
    timeoutMs: o.timeoutMs,
    seed: o.seed,
  };
}
