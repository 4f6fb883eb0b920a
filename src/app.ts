/**
 * Wires one pistom instance: cluster → router → MCP server factory. Transports, metrics and
 * signals are attached by the caller (cli.ts) so that tests can build the same thing in-process.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ResolvedConfig } from './config/schema.js';
import { Cluster, type ClusterEvents } from './cluster/cluster.js';
import type { Random } from './cluster/balancer.js';
import { Router, type RouterHooks } from './router.js';
import { createMcpServer, type McpServerOptions } from './mcp/server.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';

export interface PistomOptions {
  logger?: Logger;
  events?: ClusterEvents;
  hooks?: RouterHooks;
  onToolCall?: McpServerOptions['onToolCall'];
  random?: Random;
  heartbeatMs?: number;
  healthChecks?: boolean;
}

export interface Pistom {
  readonly cluster: Cluster;
  readonly router: Router;
  createMcpServer(): McpServer;
  /** True once the first health round has finished and found a node that can serve. */
  ready(): boolean;
  close(): Promise<void>;
}

export function createPistom(config: ResolvedConfig, options: PistomOptions = {}): Pistom {
  const logger = options.logger ?? silentLogger();
  const cluster = new Cluster(config, { random: options.random, events: options.events, healthChecks: options.healthChecks });
  const router = new Router(cluster, { logger, hooks: options.hooks, heartbeatMs: options.heartbeatMs });
  return {
    cluster,
    router,
    createMcpServer: () => createMcpServer(router, { logger, onToolCall: options.onToolCall }),
    ready: () => cluster.ready(),
    close: () => router.close(),
  };
}
