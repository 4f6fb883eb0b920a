/**
 * The shared store of a pistom fleet (`shared.redis_url`): what one process hands to the cluster
 * (src/cluster/fleet.ts), to the task service and to the HTTP front. Loaded only when a Redis URL
 * is configured; without one nothing here runs and every process keeps its own state.
 */
import type { ResolvedConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { FleetClientLimit } from './client-limits.js';
import type { FleetSummary } from '../cluster/status.js';
import { SharedConnection } from './connection.js';
import { RedisFleet, type FleetEvents, type FleetMember } from './fleet.js';
import { SharedKeys } from './keys.js';
import { RedisTaskStore } from './task-store.js';

export interface Shared {
  readonly fleet: RedisFleet;
  /** Undefined when tasks.enabled is false. Owned here: close() closes it. */
  readonly taskStore: RedisTaskStore | undefined;
  /** The fleet-wide per-client limit, when http.rate_limit is set. */
  readonly clientLimit: FleetClientLimit | undefined;
  attach(member: FleetMember): void;
  /** Resolves true once Redis answers, false after `timeoutMs` (pistom then serves with local limits). */
  waitUntilUp(timeoutMs: number): Promise<boolean>;
  status(): FleetSummary;
  close(): Promise<void>;
}

export interface SharedOptions {
  processId: string;
  logger: Logger;
  events?: FleetEvents;
}

export function createShared(config: ResolvedConfig, options: SharedOptions): Shared {
  const settings = config.shared;
  if (!settings.redis_url) throw new Error('createShared needs shared.redis_url');
  const { logger, processId } = options;
  const keys = new SharedKeys(settings.key_prefix);
  const connection = new SharedConnection({ url: settings.redis_url, commandTimeoutMs: settings.command_timeout_ms, name: processId, logger });
  const fleet = new RedisFleet({
    connection,
    keys,
    processId,
    leaseMs: settings.lease_ms,
    expectedProcesses: settings.expected_processes,
    catalog: { ttlMs: config.catalog.ttl_ms, fetchTimeoutMs: config.health.timeout_ms, maxRuntimes: config.catalog.max_runtimes },
    logger,
    events: options.events,
  });
  const taskStore = config.tasks.enabled ? new RedisTaskStore({ connection, keys, maxTasks: config.tasks.max_tasks, logger }) : undefined;
  const rate = config.http.rate_limit;
  const clientLimit = rate ? new FleetClientLimit({ connection, keys, perSecond: rate.per_second, burst: rate.burst }) : undefined;
  return {
    fleet,
    taskStore,
    clientLimit,
    attach: (member) => fleet.attach(member),
    waitUntilUp: (timeoutMs) => connection.waitUntilUp(timeoutMs),
    status: () => fleet.describe(),
    close: async () => {
      await fleet.close();
      await taskStore?.close();
      await connection.close();
    },
  };
}
