/**
 * Callers waiting for a node slot, first come first served. A caller whose signal aborts leaves
 * the line at once, and its promise rejects with the signal's reason.
 */
import type { SlotLease } from '../cluster/fleet.js';

interface Waiter<T> {
  data: T;
  signal: AbortSignal;
  resolve: (lease: SlotLease) => void;
  reject: (reason: unknown) => void;
  onAbort: () => void;
}

/** A caller taken out of the line, to be served elsewhere (`settle` with a promise of a lease). */
export interface Departed<T> {
  data: T;
  signal: AbortSignal;
  settle(lease: Promise<SlotLease>): void;
}

export class WaitingLine<T> {
  private readonly waiters: Array<Waiter<T>> = [];

  get length(): number {
    return this.waiters.length;
  }

  /** The first caller's data, if any. */
  first(): T | undefined {
    return this.waiters[0]?.data;
  }

  join(signal: AbortSignal, data: T): Promise<SlotLease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter<T> = {
        data,
        signal,
        resolve,
        reject,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(signal.reason);
        },
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives `lease` to the first caller; false when nobody waits. */
  serve(lease: SlotLease): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(lease);
    return true;
  }

  /** Everyone leaves the line, to be served some other way. */
  leaveAll(): Array<Departed<T>> {
    return this.waiters.splice(0).map((waiter) => {
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      return { data: waiter.data, signal: waiter.signal, settle: (lease) => lease.then(waiter.resolve, waiter.reject) };
    });
  }
}
