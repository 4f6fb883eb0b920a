/**
 * Wires one pistom instance: cluster → router → MCP server factory (and the task service behind
 * it). Transports, metrics and signals are attached by the caller (cli.ts) so that tests can
 * build the same thing in-process.
 */
import type { McpServer } from '@modelcontextprotocol/server';
import type { ResolvedConfig } from './config/schema.js';
import { Cluster, type ClusterEvents } from './cluster/cluster.js';
import type { Random } from './cluster/balancer.js';
import { Router, type RouterHooks } from './router.js';
import { createMcpServer, type McpServerOptions } from './mcp/server.js';
import type { Era } from './mcp/protocol.js';
import { MemoryTaskStore } from './mcp/tasks/store.js';
import { TaskService } from './mcp/tasks/service.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import type { Shared } from './shared/index.js';

export interface PistomOptions {
  logger?: Logger;
  events?: ClusterEvents;
  hooks?: RouterHooks;
  onToolCall?: McpServerOptions['onToolCall'];
  random?: Random;
  heartbeatMs?: number;
  healthChecks?: boolean;
  /** Wait this long before the first health round (see ClusterOptions). */
  healthChecksAfterMs?: number;
  /** The fleet's shared store (src/shared, built by the caller when shared.redis_url is set). */
  shared?: Shared;
  /** Identifies this process in the fleet's records; pid@hostname by default. */
  processId?: string;
}

export interface Pistom {
  readonly cluster: Cluster;
  readonly router: Router;
  /** Undefined when tasks.enabled is false. */
  readonly tasks: TaskService | undefined;
  /** The fleet's shared store, when one is configured. */
  readonly shared: Shared | undefined;
  /** A server for one protocol era; the same tools in both. */
  createMcpServer(era?: Era): McpServer;
  /** True once the first health round has finished and found a node that can serve. */
  ready(): boolean;
  close(): Promise<void>;
}

export function createPistom(config: ResolvedConfig, options: PistomOptions = {}): Pistom {
  const logger = options.logger ?? silentLogger();
  const shared = options.shared;
  const cluster = new Cluster(config, { random: options.random, events: options.events, healthChecks: options.healthChecks, healthChecksAfterMs: options.healthChecksAfterMs, fleet: shared?.fleet, processId: options.processId });
  shared?.attach({ nodes: () => cluster.list().map((dispatcher) => dispatcher.host.name), applyFleetVerdicts: (node, verdicts) => cluster.applyFleetVerdicts(node, verdicts) });
  const router = new Router(cluster, { logger, hooks: options.hooks, heartbeatMs: options.heartbeatMs });
  const tasks = config.tasks.enabled
    ? new TaskService(shared?.taskStore ?? new MemoryTaskStore({ maxTasks: config.tasks.max_tasks }), {
        ttlMs: config.tasks.ttl_ms,
        pollIntervalMs: config.tasks.poll_interval_ms,
        maxResultBytes: config.tasks.max_result_bytes,
        logger,
      })
    : undefined;
  return {
    cluster,
    router,
    tasks,
    shared,
    createMcpServer: (era: Era = 'legacy') => createMcpServer(router, { logger, onToolCall: options.onToolCall, tasks }, era),
    ready: () => cluster.ready(),
    close: async () => {
      await tasks?.close();
      // A shared task store is the shared store's to close.
      if (tasks && tasks.store !== shared?.taskStore) await tasks.store.close();
      await router.close();
      await shared?.close();
    },
  };
}
