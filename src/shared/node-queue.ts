/**
 * One node's waiters in one process, first come first served (src/shared/slots.ts). Only the first
 * waiter asks Redis again, when a release is announced or, at the latest, after POLL_MS; a slot
 * that this process passes on goes to the first waiter without asking Redis at all.
 */
import type { NodeConfig } from '../config/schema.js';
import type { SlotLease } from '../cluster/fleet.js';
import { WaitingLine } from './waiting-line.js';

/** Longest a waiter goes without asking Redis again. */
export const POLL_MS = 100;

export type TryResult = { lease: SlotLease } | { retryInMs: number } | { fallback: true };

/** Where a queue gets its slots: one try in Redis, or the local limits. */
export interface SlotSource {
  readonly up: boolean;
  tryOnce(node: NodeConfig): Promise<TryResult>;
  local(node: NodeConfig, signal: AbortSignal): Promise<SlotLease>;
}

export class NodeQueue {
  private readonly line = new WaitingLine<NodeConfig>();
  private pumping = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  /** Releases seen: one that arrives while a first try is on its way must not wait for the poll. */
  private releases = 0;

  constructor(private readonly slots: SlotSource) {}

  async acquire(node: NodeConfig, signal: AbortSignal): Promise<SlotLease> {
    if (signal.aborted) throw signal.reason;
    let missedRelease = false;
    if (this.line.length === 0 && !this.pumping) {
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
    const served = this.line.join(signal, node);
    if (missedRelease) this.wake();
    else this.arm(POLL_MS);
    return served;
  }

  get waiting(): boolean {
    return this.line.length > 0;
  }

  /** A slot this process holds goes to the first waiter (the caller checked there is one). */
  handOver(lease: SlotLease): void {
    if (!this.line.serve(lease)) lease.release();
    if (this.line.length === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** A slot may have come free: let the first waiter ask. */
  wake(): void {
    this.releases++;
    if (this.line.length === 0) return;
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
      for (let node = this.line.first(); node; node = this.line.first()) {
        if (!this.slots.up) return this.flushToLocal();
        this.again = false;
        const result = await this.slots.tryOnce(node);
        if ('fallback' in result) return this.flushToLocal();
        if ('retryInMs' in result) {
          retryInMs = result.retryInMs;
          if (this.again) continue;
          break;
        }
        // The first caller may have given up meanwhile: the slot goes back at once.
        if (!this.line.serve(result.lease)) {
          result.lease.release();
          break;
        }
      }
    } finally {
      this.pumping = false;
      if (this.line.length > 0) this.arm(retryInMs);
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
    for (const waiter of this.line.leaveAll()) waiter.settle(this.slots.local(waiter.data, waiter.signal));
  }
}
