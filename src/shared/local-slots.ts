/**
 * The limits a process keeps by itself while Redis is unreachable. With `shared.expected_processes`
 * at 1 (the default) there are none beyond the dispatcher's own limiter: max_concurrent per process,
 * exactly as without Redis. With E expected processes each one holds max(1, floor(M / E)) slots
 * of a node, so that the fleet stays near M as long as about E processes run.
 */
import type { NodeConfig } from '../config/schema.js';
import type { SlotLease } from '../cluster/fleet.js';
import { WaitingLine } from './waiting-line.js';

const NO_LEASE: SlotLease = { release: () => undefined };

class LocalSemaphore {
  private held = 0;
  private readonly line = new WaitingLine<undefined>();

  constructor(public limit: number) {}

  acquire(signal: AbortSignal): Promise<SlotLease> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.held < this.limit && this.line.length === 0) return Promise.resolve(this.lease());
    return this.line.join(signal, undefined);
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
    while (this.held < this.limit && this.line.length > 0) {
      const lease = this.lease();
      if (!this.line.serve(lease)) lease.release();
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
