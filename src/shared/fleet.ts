/**
 * The cluster's view of the fleet on Redis (src/cluster/fleet.ts): leased node slots, verdicts on
 * nodes, shared runtime lists, and the fleet-wide figures shown by cluster_status and metrics
 * (slots held on each node by every process, read every FIGURES_MS).
 */
import type { Fleet, FleetNodeFigures } from '../cluster/fleet.js';
import type { FleetEjection } from '../cluster/host.js';
import type { FleetSummary } from '../cluster/status.js';
import type { Logger } from '../log.js';
import { FleetCatalog } from './catalog.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';
import { LocalSlots } from './local-slots.js';
import { FleetSlots } from './slots.js';
import { FleetVerdicts } from './verdicts.js';

export interface RedisFleetOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  processId: string;
  leaseMs: number;
  expectedProcesses: number;
  catalog: { ttlMs: number; fetchTimeoutMs: number; maxRuntimes: number };
  logger: Logger;
  events?: FleetEvents;
}

export interface FleetEvents {
  onSlotFallback?: (node: string) => void;
  onLeaseLost?: (node: string) => void;
  onCatalogShared?: (node: string) => void;
}

/** What the fleet needs of the cluster it serves. */
export interface FleetMember {
  nodes(): string[];
  applyFleetVerdicts(node: string, verdicts: FleetEjection[]): void;
}

const FIGURES_MS = 1_000;

export class RedisFleet implements Fleet {
  readonly slots: FleetSlots;
  readonly catalog: FleetCatalog;
  private verdictBoard: FleetVerdicts | undefined;
  private member: FleetMember | undefined;
  private readonly held = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly local: LocalSlots;

  constructor(private readonly options: RedisFleetOptions) {
    const { connection, keys, logger, events } = options;
    this.local = new LocalSlots(options.expectedProcesses);
    this.slots = new FleetSlots({ connection, keys, leaseMs: options.leaseMs, local: this.local, logger, processId: options.processId, onFallback: events?.onSlotFallback, onLeaseLost: events?.onLeaseLost });
    this.catalog = new FleetCatalog({ connection, keys, ...options.catalog, onShared: events?.onCatalogShared });
    this.timer = setInterval(() => void this.readFigures(), FIGURES_MS);
    this.timer.unref();
  }

  get verdicts(): FleetVerdicts | undefined {
    return this.verdictBoard;
  }

  /** Connects the fleet to the cluster it serves (the cluster is built with the fleet, then attached). */
  attach(member: FleetMember): void {
    this.member = member;
    const { connection, keys, processId, logger } = this.options;
    this.verdictBoard = new FleetVerdicts({ connection, keys, processId, logger, apply: (node, verdicts) => member.applyFleetVerdicts(node, verdicts) });
    void this.readFigures();
  }

  figures(node: string): FleetNodeFigures | undefined {
    const held = this.held.get(node);
    return held === undefined ? undefined : { slotsHeld: held };
  }

  describe(): FleetSummary {
    const { connection, processId, expectedProcesses } = this.options;
    return {
      mode: connection.up ? 'redis' : 'local',
      redis: connection.state,
      ...(connection.up || !connection.lastError ? {} : { reason: connection.lastError }),
      process: processId,
      slots_held_here: this.slots.heldCount,
      local_limit: expectedProcesses <= 1 ? 'max_concurrent per process' : `max_concurrent / ${expectedProcesses} per process (shared.expected_processes), at least 1`,
      outages: connection.outages,
    };
  }

  private async readFigures(): Promise<void> {
    const { connection, leaseMs } = this.options;
    const nodes = this.member?.nodes() ?? [];
    if (nodes.length === 0) return;
    if (!connection.up) {
      this.held.clear();
      return;
    }
    const since = Date.now() - leaseMs;
    try {
      const pipeline = connection.client.pipeline();
      for (const node of nodes) pipeline.zcount(this.slots.slotKey(node), since, '+inf');
      const results = (await pipeline.exec()) ?? [];
      this.held.clear();
      results.forEach(([error, count], i) => {
        if (!error) this.held.set(nodes[i]!, Number(count));
      });
    } catch (error) {
      connection.failed(error);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.slots.close();
    await this.verdictBoard?.close();
  }
}
