/**
 * A node's max_concurrent (and rate_limit) held across the fleet: leased slots in Redis.
 *
 * A slot is a member of the node's sorted set, taken with redis-semaphore (one Lua call: drop
 * members older than the lease, take one if fewer than max_concurrent remain). This process
 * renews the slots it holds every lease/3 in one loop; a process that dies stops renewing, and its
 * slots fall out within `shared.lease_ms`. (redis-semaphore's own per-lock refresh timer is off:
 * it rejects unhandled when Redis is away.)
 *
 * Waiting: calls that find the node full wait here in FIFO order, and only the first of them asks
 * Redis again, when a slot is released anywhere in the fleet (every release is announced on a
 * channel) or, at the latest, after POLL_MS (a release missed, a dead process's lease run out).
 *
 * Passing on: a slot released while another call of this process waits for the same node goes to
 * that call directly, without a round trip to Redis between one job and the next, at most
 * MAX_PASSES times in a row. Then it goes back to the fleet, and this process asks for it again
 * only when the release is announced, at the same moment as every other process that waits.
 *
 * With Redis unreachable or failing, every call and waiter goes to the local limits (LocalSlots)
 * at once, and the next call after Redis answers again goes to Redis.
 */
import { randomUUID } from 'node:crypto';
import { Semaphore } from 'redis-semaphore';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { NodeConfig } from '../config/schema.js';
import type { SlotGate, SlotLease } from '../cluster/fleet.js';
import type { Logger } from '../log.js';
import type { SharedConnection } from './connection.js';
import type { SharedKeys } from './keys.js';
import type { LocalSlots } from './local-slots.js';
import { NodeQueue, POLL_MS, type SlotSource, type TryResult } from './node-queue.js';

export interface FleetSlotsOptions {
  connection: SharedConnection;
  keys: SharedKeys;
  leaseMs: number;
  local: LocalSlots;
  logger: Logger;
  /** Starts every slot's member name (`{process}/{uuid}`), so that Redis shows who holds what. */
  processId: string;
  /** A held slot was found gone when renewed (Redis lost it, or it ran out while Redis was away). */
  onLeaseLost?: (node: string) => void;
  /** An acquire went to the local limits because Redis could not be asked. */
  onFallback?: (node: string) => void;
}

/** Times in a row a slot may go from one call of this process to the next before it returns to the fleet. */
const MAX_PASSES = 4;

interface HeldSlot {
  node: NodeConfig;
  key: string;
  identifier: string;
  semaphore: Semaphore;
  /** Calls of this process it went to in a row without returning to the fleet. */
  passes: number;
}

export class FleetSlots implements SlotGate, SlotSource {
  private readonly queues = new Map<string, NodeQueue>();
  private readonly held = new Set<HeldSlot>();
  private readonly rates = new Map<string, { spec: string; limiter: RateLimiterRedis }>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private readonly offStateChange: () => void;
  private closed = false;

  constructor(private readonly options: FleetSlotsOptions) {
    const { connection, keys } = options;
    this.unsubscribe = connection.subscribe(keys.slotsChannel, (node) => this.queues.get(node)?.wake());
    this.offStateChange = connection.onStateChange((state) => {
      if (state !== 'up') for (const queue of this.queues.values()) queue.flushToLocal();
      else for (const queue of this.queues.values()) queue.wake();
    });
    this.renewTimer = setInterval(() => void this.renew(), Math.max(100, Math.floor(options.leaseMs / 3)));
    this.renewTimer.unref();
  }

  acquire(node: NodeConfig, signal: AbortSignal): Promise<SlotLease> {
    if (this.closed || !this.options.connection.up) return this.local(node, signal);
    let queue = this.queues.get(node.name);
    if (!queue) {
      queue = new NodeQueue(this);
      this.queues.set(node.name, queue);
    }
    return queue.acquire(node, signal);
  }

  /** Slots this process holds in Redis now. */
  get heldCount(): number {
    return this.held.size;
  }

  /** The Redis key of a node's slots (redis-semaphore puts its own prefix in front). */
  slotKey(node: string): string {
    return `semaphore:${this.options.keys.slots(node)}`;
  }

  local(node: NodeConfig, signal: AbortSignal): Promise<SlotLease> {
    this.options.onFallback?.(node.name);
    return this.options.local.acquire(node, signal);
  }

  get up(): boolean {
    return !this.closed && this.options.connection.up;
  }

  /** One try at a slot (and a request of the node's rate) in Redis. */
  async tryOnce(node: NodeConfig): Promise<TryResult> {
    const { connection, keys, leaseMs } = this.options;
    const semaphore = new Semaphore(connection.client, keys.slots(node.name), node.max_concurrent, {
      identifier: `${this.options.processId}/${randomUUID()}`,
      lockTimeout: leaseMs,
      acquireTimeout: leaseMs,
      acquireAttemptsLimit: 1,
      retryInterval: 0,
      refreshInterval: 0,
    });
    let acquired: boolean;
    try {
      acquired = await semaphore.tryAcquire();
    } catch (error) {
      connection.failed(error);
      return { fallback: true };
    }
    if (!acquired) return { retryInMs: POLL_MS };
    const slot: HeldSlot = { node, key: keys.slots(node.name), identifier: semaphore.identifier, semaphore, passes: 0 };
    if (node.rate_limit) {
      const wait = await this.takeRate(node);
      if (wait === 'fallback' || wait > 0) {
        this.returnToFleet(slot, true);
        return wait === 'fallback' ? { fallback: true } : { retryInMs: wait };
      }
    }
    this.held.add(slot);
    return { lease: this.leaseOf(slot) };
  }

  private leaseOf(slot: HeldSlot): SlotLease {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.release(slot);
      },
    };
  }

  private release(slot: HeldSlot): void {
    const queue = this.queues.get(slot.node.name);
    // A rate-limited node's every request goes through Redis (each one takes a request of the rate).
    if (queue?.waiting && this.held.has(slot) && !slot.node.rate_limit && this.up) {
      if (slot.passes < MAX_PASSES) {
        slot.passes++;
        queue.handOver(this.leaseOf(slot));
        return;
      }
      // Its turn to go back to the fleet: this process asks again with everyone else, on the announcement.
      this.returnToFleet(slot, false);
      return;
    }
    this.returnToFleet(slot, true);
  }

  /** 0 when a request of the node's rate was free, else ms until the next one; 'fallback' on a Redis failure. */
  private async takeRate(node: NodeConfig): Promise<number | 'fallback'> {
    const limit = node.rate_limit!;
    const spec = `${limit.requests}/${limit.interval_ms}`;
    let entry = this.rates.get(node.name);
    if (!entry || entry.spec !== spec) {
      entry = { spec, limiter: new RateLimiterRedis({ storeClient: this.options.connection.client, keyPrefix: this.options.keys.rate(node.name), ...fixedWindow(limit.requests, limit.interval_ms), rejectIfRedisNotReady: true }) };
      this.rates.set(node.name, entry);
    }
    try {
      await entry.limiter.consume('n');
      return 0;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Math.max(1, error.msBeforeNext);
      this.options.connection.failed(error);
      return 'fallback';
    }
  }

  private returnToFleet(slot: HeldSlot, wakeHere: boolean): void {
    this.held.delete(slot);
    const { connection, keys } = this.options;
    // Issued in the same tick, the removal and its announcement leave in one write (auto-pipelining).
    slot.semaphore.release().catch(() => undefined);
    if (connection.up) connection.client.publish(keys.slotsChannel, slot.node.name).catch(() => undefined);
    if (wakeHere) this.queues.get(slot.node.name)?.wake();
  }

  /** Renews every slot this process holds: one refresh each, in one pipeline. */
  private async renew(): Promise<void> {
    if (this.held.size === 0 || !this.up) return;
    const { connection, leaseMs } = this.options;
    const slots = [...this.held];
    const results = await Promise.allSettled(
      slots.map((slot) =>
        new Semaphore(connection.client, slot.key, slot.node.max_concurrent, { identifier: slot.identifier, acquiredExternally: true, lockTimeout: leaseMs, refreshInterval: 0, acquireAttemptsLimit: 1, retryInterval: 0 }).tryAcquire(),
      ),
    );
    results.forEach((result, i) => {
      const slot = slots[i]!;
      if (result.status === 'rejected') return connection.failed(result.reason);
      if (!result.value && this.held.has(slot)) {
        // Gone: the attempt goes on, and the fleet counts one slot fewer until it ends.
        this.held.delete(slot);
        this.options.onLeaseLost?.(slot.node.name);
        this.options.logger.warn({ node: slot.node.name }, 'a node slot leased in Redis ran out before it was renewed (Redis was away or slow)');
      }
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    this.unsubscribe();
    this.offStateChange();
    for (const queue of this.queues.values()) queue.flushToLocal();
    this.queues.clear();
  }
}

/**
 * rate-limiter-flexible counts in windows of whole seconds: a rate of `requests` per `intervalMs`
 * becomes the same rate over the nearest whole number of seconds (at least 1).
 */
export function fixedWindow(requests: number, intervalMs: number): { points: number; duration: number } {
  const seconds = Math.max(1, Math.round(intervalMs / 1000));
  return { points: Math.max(1, Math.round((requests * seconds * 1000) / intervalMs)), duration: seconds };
}
