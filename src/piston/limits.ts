/**
 * Piston's own constants: where the API lives, the names of the per-request limits, and the
 * defaults a node enforces. A leaf that imports nothing, so that every layer may read it (the
 * config's defaults, the wire, the simulated node, the load tester).
 */

/** Where a self-hosted Piston node serves its API (GET /api/v2/runtimes, POST /api/v2/execute). */
export const PISTON_API_PREFIX = '/api/v2';

/** Names of the per-request limits Piston accepts (Piston itself checks memory limits first, then timeouts, then CPU times). */
export const LIMIT_NAMES = ['compile_timeout', 'run_timeout', 'compile_cpu_time', 'run_cpu_time', 'compile_memory_limit', 'run_memory_limit'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];

/** The caps a node sets on those limits (PISTON_RUN_TIMEOUT etc.), plus its output limit. */
export const CAP_NAMES = ['run_timeout', 'compile_timeout', 'run_cpu_time', 'compile_cpu_time', 'run_memory_limit', 'compile_memory_limit', 'output_max_size'] as const;
export type CapName = (typeof CAP_NAMES)[number];

/** Piston's own defaults for the caps a node enforces. */
export const PISTON_DEFAULT_CAPS = {
  run_timeout: 3000,
  compile_timeout: 10000,
  run_cpu_time: 3000,
  compile_cpu_time: 10000,
  run_memory_limit: -1,
  compile_memory_limit: -1,
  output_max_size: 1024,
  /** body-parser's default JSON body limit in front of /api/v2/execute (100 KiB). */
  max_body_bytes: 102400,
  max_concurrent_jobs: 64,
} as const;
