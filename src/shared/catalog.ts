/**
 * Runtime lists shared by the fleet: one fetch per node per TTL for every process together.
 *
 * A list lives in Redis with the time it was fetched (and expires with the catalog's TTL). A
 * process that needs a list takes one that is young enough; if there is none, the first process
 * to take the node's fetch lock fetches it from the node and stores it, and the others wait for
 * that list (at most the fetch's timeout) before they fetch it themselves. Lists read by health
 * checks are stored too, so a process that starts finds them there. With Redis unreachable every
 * process fetches for itself, as without Redis.
 */
import type { SharedCatalog } from '../cluster/fleet.js';
import { runtimeListProblem, type PistonRuntime } from '../piston/types.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';

export interface FleetCatalogOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  ttlMs: number;
  /** How long a fetch from a node may take (the others wait this long for it). */
  fetchTimeoutMs: number;
  /** Largest list taken from Redis (catalog.max_runtimes), as from a node. */
  maxRuntimes: number;
  /** A list was taken from the fleet (no request to the node). */
  onShared?: (node: string) => void;
}

interface StoredList {
  at: number;
  runtimes: PistonRuntime[];
}

const WAIT_STEP_MS = 50;

export class FleetCatalog implements SharedCatalog {
  /** When this process last stored each node's list (health checks store at most every ttl/4). */
  private readonly storedAt = new Map<string, number>();

  constructor(private readonly options: FleetCatalogOptions) {}

  async load(node: string, maxAgeMs: number, fetch: () => Promise<PistonRuntime[]>): Promise<PistonRuntime[]> {
    const { connection, keys } = this.options;
    if (!connection.up) return fetch();
    const since = Date.now() - maxAgeMs;
    try {
      const found = await this.read(node, since);
      if (found) return found;
      const locked = await connection.client.set(keys.runtimesLock(node), '1', 'PX', this.options.fetchTimeoutMs, 'NX');
      if (locked === 'OK') return await this.fetchAndStore(node, fetch);
      const deadline = Date.now() + this.options.fetchTimeoutMs;
      while (Date.now() < deadline && connection.up) {
        await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
        const fetched = await this.read(node, since);
        if (fetched) return fetched;
      }
    } catch (error) {
      connection.failed(error);
    }
    return fetch();
  }

  put(node: string, runtimes: PistonRuntime[]): void {
    const now = Date.now();
    if (!this.options.connection.up || now - (this.storedAt.get(node) ?? 0) < this.options.ttlMs / 4) return;
    this.storedAt.set(node, now);
    void this.store(node, runtimes, now);
  }

  private async fetchAndStore(node: string, fetch: () => Promise<PistonRuntime[]>): Promise<PistonRuntime[]> {
    const { connection, keys } = this.options;
    try {
      const runtimes = await fetch();
      this.storedAt.set(node, Date.now());
      await this.store(node, runtimes, Date.now());
      return runtimes;
    } finally {
      connection.client.del(keys.runtimesLock(node)).catch(() => undefined);
    }
  }

  private async store(node: string, runtimes: PistonRuntime[], at: number): Promise<void> {
    const { connection, keys, ttlMs } = this.options;
    try {
      await connection.client.set(keys.runtimes(node), JSON.stringify({ at, runtimes } satisfies StoredList), 'PX', ttlMs);
    } catch (error) {
      connection.failed(error);
    }
  }

  private async read(node: string, since: number): Promise<PistonRuntime[] | undefined> {
    const text = await this.options.connection.client.get(this.options.keys.runtimes(node));
    if (!text) return undefined;
    let stored: StoredList;
    try {
      stored = JSON.parse(text) as StoredList;
    } catch {
      return undefined;
    }
    if (typeof stored?.at !== 'number' || !Array.isArray(stored.runtimes) || stored.at < since) return undefined;
    // Stored by a pistom process that checked it, but Redis is outside this process: check again.
    if (runtimeListProblem(stored.runtimes, this.options.maxRuntimes) !== undefined) return undefined;
    this.options.onShared?.(node);
    return stored.runtimes;
  }
}

