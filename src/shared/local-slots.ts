/**
 * The limits a process keeps by itself while Redis is unreachable. With `shared.expected_processes`
 * at 1 (the default) there are none beyond the dispatcher's own limiter: max_concurrent per process,
 * exactly as without Redis. With E expected processes each one holds max(1, floor(M / E)) slots
 * of a node, so that the fleet stays near M as long as about E processes run.
 */
import type { NodeConfig } from '../config/schema.js';
import type { SlotLease } from '../cluster/fleet.js';

const NO_LEASE: SlotLease = { release: () => undefined };

interface Waiter {
  resolve: (lease: SlotLease) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal;
  onAbort: () => void;
}

class LocalSemaphore {
  private held = 0;
  private readonly waiters: Waiter[] = [];

  constructor(public limit: number) {}

  acquire(signal: AbortSignal): Promise<SlotLease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit && this.waiters.length === 0) return Promise.resolve(this.lease());
    return new Promise<SlotLease>((resolve, reject) => {
      const waiter: Waiter = {
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
    });
  }

  private lease(): SlotLease {
    this.held++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.held--;
        this.next();
      },
    };
  }

  private next(): void {
    while (this.held < this.limit && this.waiters.length > 0) {
      const waiter = this.waiters.shift()!;
      waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.lease());
    }
  }
}

export class LocalSlots {
  private readonly semaphores = new Map<string, LocalSemaphore>();

  constructor(private readonly expectedProcesses: number) {}

  /** This process's share of a node's slots while the fleet cannot be asked. */
  shareOf(node: NodeConfig): number {
    return Math.max(1, Math.floor(node.max_concurrent / this.expectedProcesses));
  }

  acquire(node: NodeConfig, signal: AbortSignal): Promise<SlotLease> {
    if (this.expectedProcesses <= 1) return signal.aborted ? Promise.reject(signal.reason) : Promise.resolve(NO_LEASE);
    let semaphore = this.semaphores.get(node.name);
    if (!semaphore) {
      semaphore = new LocalSemaphore(this.shareOf(node));
      this.semaphores.set(node.name, semaphore);
    }
    semaphore.limit = this.shareOf(node);
    return semaphore.acquire(signal);
  }
}
