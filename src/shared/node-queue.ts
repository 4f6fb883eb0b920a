/**
 * One node's waiters in one process, first come first served (src/shared/slots.ts). Only the first
 * waiter asks Redis again, when a release is announced or, at the latest, after POLL_MS; a slot
 * that this process passes on goes to the first waiter without asking Redis at all.
 */
import type { NodeConfig } from '../config/schema.js';
import type { SlotLease } from '../cluster/fleet.js';

/** Longest a waiter goes without asking Redis again. */
export const POLL_MS = 100;

export type TryResult = { lease: SlotLease } | { retryInMs: number } | { fallback: true };

/** Where a queue gets its slots: one try in Redis, or the local limits. */
export interface SlotSource {
  readonly up: boolean;
  tryOnce(node: NodeConfig): Promise<TryResult>;
  local(node: NodeConfig, signal: AbortSignal): Promise<SlotLease>;
}

interface Waiter {
  node: NodeConfig;
  resolve: (lease: SlotLease) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

export class NodeQueue {
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  /** Releases seen: one that arrives while a first try is on its way must not wait for the poll. */
  private releases = 0;

  constructor(private readonly slots: SlotSource) {}

  async acquire(node: NodeConfig, signal: AbortSignal): Promise<SlotLease> {
    if (signal.aborted) throw signal.reason;
    let missedRelease = false;
    if (this.waiters.length === 0 && !this.pumping) {
      const seen = this.releases;
      const result = await this.slots.tryOnce(node);
      missedRelease = this.releases !== seen;
      if ('lease' in result) {
        if (!signal.aborted) return result.lease;
        result.lease.release();
        throw signal.reason;
      }
      if ('fallback' in result) return this.slots.local(node, signal);
      if (signal.aborted) throw signal.reason;
    }
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = {
        node,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      if (missedRelease) this.wake();
      else this.arm(POLL_MS);
    });
  }

  get waiting(): boolean {
    return this.waiters.length > 0;
  }

  /** A slot this process holds goes to the first waiter (the caller checked there is one). */
  handOver(lease: SlotLease): void {
    const waiter = this.waiters.shift()!;
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(lease);
    if (this.waiters.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** A slot may have come free: let the first waiter ask. */
  wake(): void {
    this.releases++;
    if (this.waiters.length === 0) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    let retryInMs = POLL_MS;
    try {
      while (this.waiters.length > 0) {
        if (!this.slots.up) return this.flushToLocal();
        this.again = false;
        const result = await this.slots.tryOnce(this.waiters[0]!.node);
        if ('fallback' in result) return this.flushToLocal();
        if ('retryInMs' in result) {
          retryInMs = result.retryInMs;
          if (this.again) continue;
          break;
        }
        const waiter = this.waiters.shift();
        if (!waiter) {
          result.lease.release();
          break;
        }
        waiter.signal.removeEventListener('abort', waiter.onAbort);
        waiter.resolve(result.lease);
      }
    } finally {
      this.pumping = false;
      if (this.waiters.length > 0) this.arm(retryInMs);
    }
  }

  private arm(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, ms);
    this.timer.unref();
  }

  /** Redis cannot be asked: every waiter goes to the local limits. */
  flushToLocal(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of this.waiters.splice(0)) {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      this.slots.local(waiter.node, waiter.signal).then(waiter.resolve, waiter.reject);
    }
  }
}
