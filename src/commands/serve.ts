/**
 * `pistom serve`: MCP over stdio, or Streamable HTTP with --http. Graceful shutdown on SIGTERM and
 * SIGINT (stop taking calls, let running ones finish, answer queued ones); reload on SIGHUP.
 */
import { loadConfig, ConfigError, type ConfigOverrides } from '../config/load.js';
import type { ResolvedConfig } from '../config/schema.js';
import { createPistom } from '../app.js';
import { createLogger } from '../log.js';
import { PistomHttpServer } from '../mcp/http/server.js';
import { serveStdio } from '../mcp/stdio.js';
import { createMetrics } from '../metrics.js';
import { parseFlags, parseHostPort } from './flags.js';

const HELP = `pistom serve [options]
  --backend URL        a Piston node (repeatable); or PISTOM_BACKENDS=url1,url2
  --config FILE        JSON config (see config/pistom.schema.json); or PISTOM_CONFIG
  --http HOST:PORT     serve Streamable HTTP at /mcp instead of stdio (loopback unless told)
  --stateful           keep MCP sessions (Mcp-Session-Id) instead of stateless HTTP
  --allow-public       allow a non-loopback --http address without auth tokens
  --log-level LEVEL    fatal|error|warn|info|debug|trace|silent (or PISTOM_LOG_LEVEL)
  --grace-ms MS        how long running calls may finish on shutdown (default 10000)`;

const OPTIONS = {
  backend: { type: 'string', multiple: true },
  config: { type: 'string' },
  http: { type: 'string' },
  stateful: { type: 'boolean' },
  'allow-public': { type: 'boolean' },
  'log-level': { type: 'string' },
  'grace-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runServe(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, OPTIONS, 'serve');
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
  const graceMs = values['grace-ms'] ? Number(values['grace-ms']) : 10_000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw new ConfigError('--grace-ms', ['must be a number of ms, 0 or more']);
  let config = await loadConfig(overrides);
  if (values['allow-public']) config = { ...config, http: { ...config.http, allow_unauthenticated_public: true } };
  const logger = createLogger(config.log.level);
  const metrics = createMetrics();
  const pistom = createPistom(config, { logger, ...metrics.instrumentation });
  metrics.bind(pistom);
  logger.info({ nodes: config.nodes.map((node) => node.name), transport: values.http ? 'http' : 'stdio' }, 'pistom starting');

  let http: PistomHttpServer | undefined;
  if (values.http) {
    http = new PistomHttpServer({ http: config.http, createMcpServer: pistom.createMcpServer, ready: pistom.ready, metrics: metrics.endpoint, logger });
    const url = await http.listen();
    logger.info({ url: `${url}/mcp`, stateful: config.http.stateful }, 'serving Streamable HTTP');
    process.stderr.write(`pistom listening on ${url}/mcp\n`);
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string) => {
    stopping ??= (async () => {
      logger.info({ signal, grace_ms: graceMs }, 'shutting down');
      http?.beginDrain();
      await pistom.router.drain(graceMs);
      await http?.close();
      await pistom.close();
      metrics.close();
      logger.info('stopped');
      logger.flush();
    })();
    return stopping;
  };
  const reload = async () => {
    try {
      const next: ResolvedConfig = await loadConfig(overrides);
      const changes = pistom.router.reconfigure(next);
      logger.info(changes, 'configuration reloaded');
    } catch (error) {
      if (error instanceof ConfigError) logger.error({ problems: error.problems, source: error.source }, 'reload refused: the new configuration is invalid; keeping the old one');
      else logger.error({ err: error }, 'reload failed; keeping the old configuration');
    }
  };
  const done = new Promise<void>((resolve) => {
    process.once('SIGTERM', () => void shutdown('SIGTERM').then(resolve));
    process.once('SIGINT', () => void shutdown('SIGINT').then(resolve));
  });
  process.on('SIGHUP', () => void reload());

  if (!http) {
    await Promise.race([serveStdio(pistom.createMcpServer()), done]);
    await shutdown('stdin closed');
  } else {
    await done;
  }
  return 0;
}
