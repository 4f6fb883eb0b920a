/**
 * `pistom serve`: MCP over stdio, or Streamable HTTP with --http. Graceful shutdown on SIGTERM and
 * SIGINT (stop taking calls, answer queued ones, let running ones finish within a grace period);
 * reload on SIGHUP (nodes added, removed and changed without dropping calls; a bad file is refused).
 */
import { isDeepStrictEqual } from 'node:util';
import { loadConfig, ConfigError, type ConfigOverrides } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import type { ClusterEvents } from '../cluster/cluster.js';
import { createPistom, type Pistom } from '../app.js';
import { PROCESS_ID } from '../cluster/cluster.js';
import type { Shared } from '../shared/index.js';
import { createLogger, type Logger } from '../log.js';
import type { PistomHttpServer } from '../mcp/http/server.js';
import { serveStdio, type StdioConnection } from '../mcp/stdio.js';
import type { Metrics, MetricsServer } from '../metrics.js';
import { numberFlag, parseFlags } from '../util/usage.js';
import { parseHostPort } from './flags.js';

const HELP = `pistom serve [options]
  --backend URL        a Piston node (repeatable); or PISTOM_BACKENDS=url1,url2
  --config FILE        JSON config (see config/pistom.schema.json); or PISTOM_CONFIG
  --http HOST:PORT     serve Streamable HTTP at /mcp instead of stdio (loopback unless told)
  --stateful           keep MCP sessions (Mcp-Session-Id) for 2025-era clients over HTTP
                       (2026-07-28 requests are stateless either way)
  --allow-public       allow a non-loopback --http address without auth tokens
  --metrics HOST:PORT  also serve /metrics, /healthz and /readyz on this address (any transport)
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (or PISTOM_LOG_LEVEL)
  --grace-ms MS        how long running calls may finish on shutdown (default 10000)

Fleet: with shared.redis_url in the config file, or PISTOM_REDIS_URL, every pistom process using
that Redis shares node limits, ejections, runtime lists, client rate limits and tasks; without
Redis reachable it serves with local limits (docs/deploy.md).

Protocol: MCP 2026-07-28 (per-request _meta, server/discover, tasks extension for execute) and
2025-11-25/2025-06-18/2025-03-26 (initialize), over stdio and HTTP. Other settings (limits,
breaker, tasks.*, http.*, metrics.*) are in the config file: pistom schema prints its JSON Schema.

Signals: SIGTERM/SIGINT shut down gracefully (a second one cancels running calls at once);
SIGHUP reloads the configuration (nodes, limits, balancer, breaker, log level).`;

const OPTIONS = {
  backend: { type: 'string', multiple: true },
  config: { type: 'string' },
  http: { type: 'string' },
  stateful: { type: 'boolean' },
  'allow-public': { type: 'boolean' },
  metrics: { type: 'string' },
  'log-level': { type: 'string' },
  'grace-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Sections read once at start: a reload that changes them is applied only after a restart. */
const RESTART_ONLY = ['http', 'health', 'catalog', 'shared', 'metrics'] as const;

/** How long start-up waits for the fleet's Redis before serving with local limits. */
const REDIS_START_WAIT_MS = 2_000;

/** Over stdio, when the first health round starts (after the client's first messages are answered). */
const STDIO_FIRST_PROBE_AFTER_MS = 250;

/** How long the process may linger after a clean shutdown before it is made to exit. */
const EXIT_SAFETY_MS = 3_000;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS);
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const overrides: ConfigOverrides = {
    configFile: values.config,
    backends: values.backend,
    http: values.http ? parseHostPort(values.http) : undefined,
    stateful: values.stateful,
    logLevel: values['log-level'],
  };
  const graceMs = values['grace-ms'] ? numberFlag('grace-ms', values['grace-ms'], { min: 0 }) : 10_000;
  const metricsAddress = values.metrics ? parseHostPort(values.metrics, '--metrics') : undefined;
  const load = async () => {
    const loaded = await loadConfig(overrides);
    return values['allow-public'] ? { ...loaded, http: { ...loaded.http, allow_unauthenticated_public: true } } : loaded;
  };

  const config = await load();
  // Refused before anything starts (no node checks, no log lines around the refusal).
  if (config.http.enabled) (await import('../mcp/http/guards.js')).refusePublicBindWithoutAuth(config.http);
  const logger = createLogger(config.log.level);
  // Serving loads only what it needs: no HTTP front over stdio, and no metrics where nothing can
  // read them (stdio without --metrics): an agent's stdio server starts the faster for it.
  const metrics = config.http.enabled || metricsAddress ? (await import('../metrics.js')).createMetrics({ cacheMs: config.metrics.cache_ms, shared: config.shared.redis_url !== undefined }) : undefined;
  const shared = await connectShared(config, logger, metrics);
  if (shared === 'stopped') return 0;
  const pistom = createPistom(config, {
    logger,
    ...metrics?.instrumentation,
    events: withLogging(metrics?.instrumentation.events ?? {}, logger),
    shared,
    processId: PROCESS_ID,
    // Over stdio the client's first messages (initialize, tools/list) are answered before the nodes
    // are probed: loading the HTTP client and probing would otherwise delay every agent's start.
    healthChecksAfterMs: config.http.enabled ? 0 : STDIO_FIRST_PROBE_AFTER_MS,
  });
  metrics?.bind(pistom);
  const server = new Server({ pistom, metrics, logger, config, load, graceMs });
  try {
    await server.start({ http: config.http.enabled, metricsAddress });
  } catch (error) {
    await server.stop('failed start');
    throw error;
  }
  return server.run();
}

interface ServerParts {
  pistom: Pistom;
  /** Undefined where nothing can read metrics (stdio without --metrics). */
  metrics: Metrics | undefined;
  logger: Logger;
  config: ResolvedConfig;
  /** Reads the configuration again (SIGHUP). */
  load: () => Promise<ResolvedConfig>;
  graceMs: number;
}

/** The running process: transports, signals, reload and shutdown. */
class Server {
  private readonly pistom: Pistom;
  private readonly metrics: Metrics | undefined;
  private readonly logger: Logger;
  private readonly load: () => Promise<ResolvedConfig>;
  private readonly graceMs: number;
  private config: ResolvedConfig;
  private http: PistomHttpServer | undefined;
  private stdio: StdioConnection | undefined;
  private metricsServer: MetricsServer | undefined;
  private stopping: Promise<void> | undefined;
  private stopRequested!: () => void;
  private readonly stopSignal = new Promise<void>((resolve) => (this.stopRequested = resolve));
  private reloads: Promise<void> = Promise.resolve();
  private readonly onStop = (signal: NodeJS.Signals) => this.requestStop(signal);
  private readonly onReload = () => {
    this.reloads = this.reloads.then(() => this.reload());
  };
  // A bug that escapes one call must not take down every other call in flight: log it and serve on.
  private readonly onUnhandledRejection = (reason: unknown) => {
    this.logger.error({ err: reason }, 'unhandled promise rejection (a bug in pistom); serving on');
  };
  // After an uncaught exception the process state is unknown: finish what can be finished, exit 1.
  private readonly onUncaughtException = (error: Error) => {
    this.logger.fatal({ err: error }, 'uncaught exception (a bug in pistom); shutting down');
    process.exitCode = 1;
    void this.stop('uncaught exception');
  };

  constructor(parts: ServerParts) {
    this.pistom = parts.pistom;
    this.metrics = parts.metrics;
    this.logger = parts.logger;
    this.config = parts.config;
    this.load = parts.load;
    this.graceMs = parts.graceMs;
  }

  async start(options: { http: boolean; metricsAddress?: { host: string; port: number } }): Promise<void> {
    const { pistom, logger } = this;
    logger.info({ nodes: this.config.nodes.map((node) => node.name), transport: options.http ? 'http' : 'stdio' }, 'pistom starting');
    process.on('SIGTERM', this.onStop);
    process.on('SIGINT', this.onStop);
    process.on('SIGHUP', this.onReload);
    process.on('unhandledRejection', this.onUnhandledRejection);
    process.on('uncaughtException', this.onUncaughtException);
    const readyDetail = pistom.shared ? () => ({ shared: pistom.shared!.status() }) : undefined;
    if (options.metricsAddress) {
      const { serveMetrics } = await import('../metrics.js');
      this.metricsServer = await serveMetrics({ ...options.metricsAddress, endpoint: this.metrics!.endpoint, ready: () => this.stopping === undefined && pistom.ready(), readyDetail });
      logger.info({ url: `${this.metricsServer.url}/metrics` }, 'serving metrics');
      process.stderr.write(`pistom metrics on ${this.metricsServer.url}/metrics\n`);
    }
    if (options.http) {
      const { PistomHttpServer } = await import('../mcp/http/server.js');
      this.http = new PistomHttpServer({
        http: this.config.http,
        createMcpServer: pistom.createMcpServer,
        ready: pistom.ready,
        metrics: this.config.metrics.on_http_port ? this.metrics?.endpoint : undefined,
        logger,
        nodeConnections: this.config.nodes.length * this.config.client.connections,
        rateLimiter: pistom.shared?.clientLimit,
        readyDetail,
      });
      const url = await this.http.listen();
      logger.info({ url: `${url}/mcp`, stateful: this.config.http.stateful }, 'serving Streamable HTTP');
      process.stderr.write(`pistom listening on ${url}/mcp\n`);
    } else {
      this.stdio = serveStdio(pistom.createMcpServer, { logger });
    }
  }

  /** Serves until a signal (or, over stdio, the end of stdin) and a clean shutdown. */
  async run(): Promise<number> {
    await Promise.race([this.stopSignal, this.stdio?.ended ?? this.stopSignal]);
    await this.stop(this.stopping ? 'signal' : 'stdin closed');
    // Everything is closed; if a stray handle still holds the event loop, do not hang a deploy.
    setTimeout(() => {
      process.stderr.write('pistom: a handle kept the process alive after shutdown; exiting anyway\n');
      process.exit();
    }, EXIT_SAFETY_MS).unref();
    return Number(process.exitCode ?? 0);
  }

  private requestStop(signal: NodeJS.Signals): void {
    if (this.stopping) {
      this.logger.warn({ signal }, 'second signal: cancelling the running calls now');
      void this.pistom.router.close();
      return;
    }
    void this.stop(signal);
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= this.shutdown(reason);
    this.stopRequested();
    return this.stopping;
  }

  private async shutdown(reason: string): Promise<void> {
    const { logger } = this;
    logger.info({ reason, grace_ms: this.graceMs, queued: this.pistom.router.queueSize, running: this.pistom.router.running }, 'shutting down');
    this.http?.beginDrain();
    // A stdio client that closed its input may still read the answers to what it sent: serve them.
    await this.pistom.router.drain(this.graceMs, { finishQueued: reason === 'stdin closed' });
    // The last answers travel to their transport through a few promise turns: let them leave.
    await new Promise((resolve) => setImmediate(resolve));
    await this.http?.close();
    await this.stdio?.close().catch(() => undefined);
    await this.metricsServer?.close();
    await this.pistom.close();
    this.metrics?.close();
    process.off('SIGTERM', this.onStop);
    process.off('SIGINT', this.onStop);
    process.off('SIGHUP', this.onReload);
    process.off('unhandledRejection', this.onUnhandledRejection);
    process.off('uncaughtException', this.onUncaughtException);
    logger.info('stopped');
    logger.flush();
  }

  private async reload(): Promise<void> {
    if (this.stopping) return;
    const { logger } = this;
    let next: ResolvedConfig;
    try {
      next = await this.load();
    } catch (error) {
      this.metrics?.reloaded('refused');
      if (error instanceof ConfigError) logger.error({ problems: error.problems, source: error.source }, 'reload refused: the new configuration is invalid; keeping the old one');
      else logger.error({ err: error }, 'reload failed; keeping the old configuration');
      return;
    }
    if (this.stopping) return;
    const changes = this.pistom.router.reconfigure(next);
    logger.level = next.log.level;
    const restartOnly = RESTART_ONLY.filter((section) => !isDeepStrictEqual(this.config[section], next[section]));
    const budgetChanged = next.retry.budget_ratio !== this.config.retry.budget_ratio || next.retry.budget_min_per_s !== this.config.retry.budget_min_per_s;
    this.config = next;
    this.metrics?.reloaded('ok');
    logger.info({ ...changes, nodes: next.nodes.map((node) => node.name) }, 'configuration reloaded');
    if (restartOnly.length > 0 || budgetChanged) {
      logger.warn({ sections: [...restartOnly, ...(budgetChanged ? ['retry.budget_*'] : [])] }, 'these settings changed but apply only after a restart');
    }
  }
}

/**
 * The fleet's shared store, when shared.redis_url is set (loaded only then). Start-up waits a
 * moment for Redis; if it does not answer, pistom serves with local limits and says so.
 */
async function connectShared(config: ResolvedConfig, logger: Logger, metrics: Metrics | undefined): Promise<Shared | undefined | 'stopped'> {
  if (!config.shared.redis_url) return undefined;
  const { createShared } = await import('../shared/index.js');
  const shared = createShared(config, { processId: PROCESS_ID, logger, events: metrics?.fleetEvents });
  // A SIGTERM or SIGINT during the wait stops pistom cleanly (exit 0), as it would once serving.
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const up = await Promise.race([shared.waitUntilUp(REDIS_START_WAIT_MS), signalled]).finally(() => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  });
  if (typeof up === 'string') {
    await shared.close();
    logger.info({ signal: up }, 'stopped before serving: a signal arrived while waiting for Redis');
    return 'stopped';
  }
  if (!up) {
    const status = shared.status();
    const reason = status.reason ?? 'no answer yet';
    logger.warn({ shared: 'local', reason, local_limit: status.local_limit }, 'Redis is unreachable at start: serving with local limits until it answers');
    process.stderr.write(`pistom: warning: Redis is unreachable (${reason}); serving with local limits (${status.local_limit}) until it answers\n`);
  }
  return shared;
}

/** Adds log lines for the cluster's state changes to the metrics' event handlers. */
function withLogging(events: ClusterEvents, logger: Logger): ClusterEvents {
  return {
    ...events,
    onBreakerChange(node, state) {
      events.onBreakerChange?.(node, state);
      if (state === 'open') logger.warn({ node, breaker: state }, 'circuit breaker opened: the node gets no traffic for a while');
      else logger.info({ node, breaker: state }, 'circuit breaker state changed');
    },
    onHealthChange(node, healthy) {
      events.onHealthChange?.(node, healthy);
      if (healthy) logger.info({ node, healthy }, 'node is healthy again');
      else logger.warn({ node, healthy }, 'node failed its health checks and gets no traffic');
    },
    onEjection(node, ejection) {
      events.onEjection?.(node, ejection);
      if (!ejection) logger.info({ node }, 'node is back in rotation');
      else if (ejection.reason === 'misconfigured') logger.error({ node, reason: ejection.reason, detail: ejection.detail }, 'node is misconfigured and gets no traffic: fix its URL or headers (pistom check)');
      else logger.warn({ node, reason: ejection.reason, detail: ejection.detail }, 'node stopped answering: its calls moved to other nodes');
    },
    onRedispatch(node, attempts) {
      events.onRedispatch?.(node, attempts);
      logger.warn({ node, attempts }, 'attempts moved off a node that stopped answering');
    },
  };
}
