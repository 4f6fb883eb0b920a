/**
 * The configuration schema: the single source of truth for config files, environment, flags,
 * the generated JSON Schema (config/pistom.schema.json) and the TypeScript types.
 */
import { z } from 'zod';
import { PISTON_DEFAULT_CAPS } from '../piston/limits.js';
import { isHeaderName } from '../util/http-names.js';
import { displayUrl, urlSecrets } from '../util/redact.js';

const positiveInt = () => z.number().int().positive();
const nonNegativeInt = () => z.number().int().nonnegative();

/** A cap of -1 means "the node sets no cap" (Piston's default for memory limits). */
const capValue = () => z.number().int().min(-1);

export const NodeCapsSchema = z
  .object({
    run_timeout: capValue().default(PISTON_DEFAULT_CAPS.run_timeout).describe('Largest run_timeout (wall ms) the node accepts (PISTON_RUN_TIMEOUT).'),
    compile_timeout: capValue().default(PISTON_DEFAULT_CAPS.compile_timeout).describe('Largest compile_timeout (wall ms) (PISTON_COMPILE_TIMEOUT).'),
    run_cpu_time: capValue().default(PISTON_DEFAULT_CAPS.run_cpu_time).describe('Largest run_cpu_time (ms) (PISTON_RUN_CPU_TIME).'),
    compile_cpu_time: capValue().default(PISTON_DEFAULT_CAPS.compile_cpu_time).describe('Largest compile_cpu_time (ms) (PISTON_COMPILE_CPU_TIME).'),
    run_memory_limit: capValue().default(PISTON_DEFAULT_CAPS.run_memory_limit).describe('Largest run_memory_limit in bytes; -1 = no cap (PISTON_RUN_MEMORY_LIMIT).'),
    compile_memory_limit: capValue().default(PISTON_DEFAULT_CAPS.compile_memory_limit).describe('Largest compile_memory_limit in bytes; -1 = no cap.'),
    output_max_size: positiveInt().default(PISTON_DEFAULT_CAPS.output_max_size).describe('PISTON_OUTPUT_MAX_SIZE: characters of stdout/stderr before OL/EL.'),
    max_body_bytes: positiveInt().default(PISTON_DEFAULT_CAPS.max_body_bytes).describe('Largest execute request body the node accepts (100 KiB in Piston).'),
  })
  .strict();

export const RateLimitSchema = z
  .object({
    requests: positiveInt().describe('Requests allowed per interval.'),
    interval_ms: positiveInt().describe('Length of the interval in ms.'),
  })
  .strict();

const headerName = z.string().refine(isHeaderName, 'must be a valid HTTP header name');

export const NodeSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 characters of letters, digits, ".", "_" or "-", starting with a letter or digit')
      .optional()
      .describe('Name shown in results, status and metrics. Defaults to host:port of the URL.'),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL of a Piston node' })
      .describe('The Piston node. A URL with no path is a self-hosted node (http://10.0.0.5:2000: pistom uses its /api/v2). A URL with a path is the API base as published, used as given (https://emkc.org/api/v2/piston: pistom uses /runtimes and /execute below it).'),
    headers: z
      .record(headerName, z.string())
      .default({})
      .describe('Extra HTTP headers sent to this node (e.g. Authorization). Treated as secrets: never logged or shown.'),
    weight: z.number().positive().default(1).describe('Relative share of traffic under the weighted strategy.'),
    tier: nonNegativeInt().default(0).describe('Priority tier: lower tiers take traffic first; the next tier is used only when every node of the lower one is down or saturated.'),
    max_concurrent: positiveInt().default(PISTON_DEFAULT_CAPS.max_concurrent_jobs).describe('How many requests pistom keeps in flight on this node at most.'),
    rate_limit: RateLimitSchema.optional().describe('Optional request rate cap for this node (e.g. 5 per 1000 ms).'),
    caps: NodeCapsSchema.default(NodeCapsSchema.parse({})).describe("The node's configured limits. Piston does not report them, so tell pistom."),
  })
  .strict();

export const AdmissionSchema = z
  .object({
    max_queue: nonNegativeInt().default(256).describe('How many calls may wait for a free slot before new ones are refused.'),
    max_wait_ms: positiveInt().default(30_000).describe('How long a call may wait in the queue before it is refused.'),
    max_queued_per_client: positiveInt()
      .optional()
      .describe("A hard cap on the places of max_queue one client (its token, or its address without auth) may hold; past it its calls are refused as queue_full. Without it a client alone may use the whole queue, and when the queue is full a call from a client holding fewer places displaces the newest waiting call of the client holding the most. Either way waiting calls start in rounds: each client's first before anyone's second."),
  })
  .strict();

export const BalancerSchema = z
  .object({
    strategy: z.enum(['least-loaded', 'round-robin', 'weighted']).default('least-loaded').describe('least-loaded = power of two choices on in-flight and latency.'),
  })
  .strict();

export const RetrySchema = z
  .object({
    after_send: z.boolean().default(true).describe('Retry on another node after a fault that happened once the request was sent (Piston runs code sandboxed without network, so a rerun is usually harmless).'),
    max_attempts: positiveInt().max(10).default(3).describe('Attempts per call, the first included.'),
    budget_ratio: z.number().min(0).max(1).default(0.2).describe('Retries allowed as a share of recent calls.'),
    budget_min_per_s: z.number().min(0).default(5).describe('Retries per second always allowed, whatever the ratio.'),
    deadline_ms: positiveInt().default(60_000).describe('One deadline for the whole call: queue, attempts and retries.'),
  })
  .strict();

export const BreakerSchema = z
  .object({
    error_threshold_percentage: z.number().min(1).max(100).default(50),
    volume_threshold: positiveInt().default(5).describe('Calls in the window before the breaker may open.'),
    consecutive_failures: positiveInt()
      .default(5)
      .describe('Node faults in a row that open the breaker at once, whatever the rate over the window (a dead node in a busy window).'),
    rolling_window_ms: positiveInt().default(10_000),
    reset_timeout_ms: positiveInt().default(5_000).describe('How long a breaker stays open before it lets one probe through (half-open).'),
    max_open_percent: z
      .number()
      .min(1)
      .max(100)
      .default(50)
      .describe('Most nodes whose breakers may be open at once, as a share of the nodes (at least one). Faults that hit every node alike then leave some in rotation (Envoy: max_ejection_percent).'),
  })
  .strict();

export const HealthSchema = z
  .object({
    interval_ms: positiveInt().default(5_000),
    timeout_ms: positiveInt().default(2_000),
    unhealthy_threshold: positiveInt().default(3).describe('Failed checks in a row that mark a node unhealthy.'),
    healthy_threshold: positiveInt().default(2).describe('Successful checks in a row that mark it healthy again.'),
    probe_after_min_ms: positiveInt()
      .default(200)
      .describe('An attempt that waits this long at least on a node that has answered nothing meanwhile gets the node probed (twice the recent 95th percentile of answers, within the min and max).'),
    probe_after_max_ms: positiveInt().default(5_000).describe('Upper bound of that wait.'),
    probe_timeout_ms: positiveInt()
      .default(500)
      .describe("How long a liveness probe may take. A node that fails it is out of rotation and its calls move to other nodes; long runs on a node that answers its probe are never cut short."),
  })
  .strict();

export const CatalogSchema = z
  .object({
    ttl_ms: positiveInt().default(60_000).describe("How long a node's runtime list is trusted."),
    refresh_ahead_ms: nonNegativeInt().default(10_000).describe('Refresh in the background this long before the list goes stale.'),
    max_runtimes: positiveInt().default(1_000).describe("Most runtimes accepted in one node's list (a full Piston package set is about 125); a longer list is refused as not Piston's."),
  })
  .strict();

export const ClientSchema = z
  .object({
    connect_timeout_ms: positiveInt().default(2_000),
    answer_margin_ms: positiveInt().default(5_000).describe("Time allowed for an answer beyond the call's own compile and run limits."),
    max_response_bytes: positiveInt().default(4 * 1024 * 1024).describe('Answers larger than this are treated as node faults.'),
    connections: positiveInt().default(64).describe('Pooled keep-alive connections per node.'),
  })
  .strict();

export const HttpServerSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Serve Streamable HTTP at http.host:http.port instead of stdio (--http HOST:PORT turns it on too).'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(3000),
    stateful: z.boolean().default(false).describe('Keep MCP sessions (Mcp-Session-Id). Stateless lets any replica answer.'),
    session_idle_ms: positiveInt().default(15 * 60_000),
    max_sessions: positiveInt().default(1000),
    max_sessions_per_client: positiveInt().default(32).describe('Stateful sessions one client (its token, or its address without auth) may hold open; a session answers only the client that opened it.'),
    auth_tokens: z.array(z.string().min(16, 'tokens must be at least 16 characters')).default([]).describe('Bearer tokens accepted on /mcp (secrets). Also PISTOM_AUTH_TOKENS.'),
    allow_unauthenticated_public: z.boolean().default(false).describe('Allow binding a non-loopback address without auth tokens.'),
    allowed_hosts: z.array(z.string()).default([]).describe('Host header values allowed besides loopback names.'),
    allowed_origins: z.array(z.string()).default([]).describe('Origin values allowed besides loopback origins.'),
    max_body_bytes: positiveInt().default(1024 * 1024),
    max_batch: positiveInt().max(10_000).default(100).describe('Most messages in one JSON-RPC batch (2025 era; later revisions have no batches). Each message counts for the rate limit.'),
    max_answer_bytes: positiveInt()
      .default(8 * 1024 * 1024)
      .describe('Largest answer to one HTTP request, a whole batch included. An answer that would pass it is replaced by an error that names this setting (and the call is counted as undelivered).'),
    max_unread_answer_bytes: positiveInt()
      .default(64 * 1024 * 1024)
      .describe("Bytes of answers pistom holds, over all connections, that clients have not read yet (the first 64 KiB of each answer do not count, so small answers always pass). Past it larger answers are replaced by an error that names this setting; a connection whose client stops reading is closed after http.idle_timeout_ms."),
    max_connections: positiveInt()
      .optional()
      .describe('Client connections open at once. Default (at most 4096) and upper bound: what the file-descriptor limit leaves after the node connection pools (nodes x client.connections) and a reserve of 128. When full, the longest-idle connection is closed for a new one; when all are busy the new one gets 503.'),
    max_connections_per_address: positiveInt().default(256).describe("Client connections one remote address may hold; at the bound its longest-idle connection makes room, and when all are busy the new one gets 503 (raise it behind a reverse proxy, where every client shares the proxy's address)."),
    fast_path: z
      .boolean()
      .default(true)
      .describe("Answer plain stateless tools/call requests without the MCP SDK's per-message validation (the tool and its input schema are the same); false sends every request through the SDK."),
    idle_timeout_ms: positiveInt().default(10_000).describe('A connection with no request in flight that sends nothing for this long is closed (also one that never sends a request).'),
    max_json_depth: positiveInt().max(1000).default(64).describe('Deepest JSON nesting accepted on /mcp (deeper bodies get 400 before anything walks them).'),
    rate_limit: z
      .object({ per_second: z.number().positive(), burst: positiveInt() })
      .strict()
      .optional()
      .describe('Per-client token bucket on /mcp; 429 with Retry-After when empty.'),
  })
  .strict();

export const TasksSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Offer the MCP tasks extension: a 2026-07-28 client that declares it gets execute as a task it can poll and cancel.'),
    ttl_ms: positiveInt().default(60 * 60_000).describe('How long a task and its result stay readable after the task started.'),
    max_tasks: positiveInt().default(1000).describe('Tasks kept at most; when all are still running, new calls run without a task.'),
    max_result_bytes: positiveInt().default(1024 * 1024).describe('Largest result a task keeps; a larger one settles the task as failed, saying so.'),
    poll_interval_ms: positiveInt().default(1000).describe('How often clients are told to poll tasks/get.'),
  })
  .strict();

export const SharedSchema = z
  .object({
    redis_url: z
      .string()
      .regex(/^rediss?:\/\/[^\s]+$/i, 'must be a redis:// or rediss:// (TLS) URL, e.g. redis://:password@10.0.0.7:6379/0')
      .optional()
      .describe('Redis that the pistom processes of one fleet share (node slots, ejections, runtime lists, client rate limits, tasks). A secret: never logged or shown. Also PISTOM_REDIS_URL. Without it every process keeps its own state.'),
    key_prefix: z
      .string()
      .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ":", ".", "_" or "-"')
      .default('pistom:')
      .describe('Prefix of every key and channel pistom uses in Redis: processes with the same prefix form one fleet.'),
    lease_ms: z
      .number()
      .int()
      .min(500)
      .default(5_000)
      .describe("How long a node slot held by a process stays taken without being renewed: a killed process's slots come back within this time."),
    command_timeout_ms: positiveInt()
      .default(500)
      .describe('How long one Redis command may take; past it (or with Redis unreachable) the process falls back to its local limits until Redis answers again.'),
    expected_processes: positiveInt()
      .default(1)
      .describe('While Redis is unreachable each process limits a node to max_concurrent / expected_processes (at least 1). 1 (the default) keeps max_concurrent per process, as without Redis.'),
  })
  .strict();

export const MetricsSchema = z
  .object({
    cache_ms: nonNegativeInt().default(1000).describe('/metrics is rendered at most once per this many ms; scrapes in between get the same text (0: render every scrape).'),
    on_http_port: z.boolean().default(true).describe('Serve /metrics on the --http port too. Set false to serve it only on the --metrics HOST:PORT listener.'),
  })
  .strict();

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    nodes: z.array(NodeSchema).min(1, 'at least one Piston node is required'),
    admission: AdmissionSchema.default(AdmissionSchema.parse({})),
    balancer: BalancerSchema.default(BalancerSchema.parse({})),
    retry: RetrySchema.default(RetrySchema.parse({})),
    breaker: BreakerSchema.default(BreakerSchema.parse({})),
    health: HealthSchema.default(HealthSchema.parse({})),
    catalog: CatalogSchema.default(CatalogSchema.parse({})),
    client: ClientSchema.default(ClientSchema.parse({})),
    http: HttpServerSchema.default(HttpServerSchema.parse({})),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .default({ level: 'info' }),
    tasks: TasksSchema.default(TasksSchema.parse({})),
    shared: SharedSchema.default(SharedSchema.parse({})),
    metrics: MetricsSchema.default(MetricsSchema.parse({})),
  })
  .strict();

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.output<typeof ConfigSchema>;
export type NodeConfig = Config['nodes'][number] & { name: string };
export type NodeCaps = z.output<typeof NodeCapsSchema>;
export type ResolvedConfig = Omit<Config, 'nodes'> & { nodes: NodeConfig[] };

/**
 * Node names must be unique. Checked on the raw input (not in the schema) so that a duplicate is
 * reported together with every other problem, not only once the rest is right.
 */
export function duplicateNodeNames(raw: unknown): Array<{ path: Array<string | number>; message: string }> {
  const nodes = (raw as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes)) return [];
  const seen = new Map<string, number>();
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  nodes.forEach((node: unknown, index) => {
    const { name, url } = (node ?? {}) as { name?: unknown; url?: unknown };
    const effective = typeof name === 'string' ? name : typeof url === 'string' ? defaultNodeName(url) : undefined;
    if (effective === undefined) return;
    const previous = seen.get(effective);
    if (previous !== undefined) problems.push({ path: ['nodes', index, 'name'], message: `duplicate node name "${effective}" (also nodes[${previous}]); give each node a unique name` });
    else seen.set(effective, index);
  });
  return problems;
}

/** host:port of the URL; never its user name or password, even when the URL does not parse. */
export function defaultNodeName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return displayUrl(url).replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').split('/')[0]!;
  }
}

/** Every value of a configuration that must never be shown: node headers, URL credentials, tokens. */
export function secretsOf(config: Pick<Config, 'http'> & { shared?: Pick<Config['shared'], 'redis_url'>; nodes: Array<Pick<NodeConfig, 'url' | 'headers'>> }): string[] {
  const secrets: string[] = [...config.http.auth_tokens];
  const redisUrl = config.shared?.redis_url;
  if (redisUrl) secrets.push(redisUrl, ...urlSecrets(redisUrl));
  for (const node of config.nodes) {
    secrets.push(...Object.values(node.headers ?? {}), ...urlSecrets(node.url));
  }
  return secrets;
}
