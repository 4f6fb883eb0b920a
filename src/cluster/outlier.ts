/**
 * Outlier detection for suspect faults: failures a request can cause (XX, 500, a broken or
 * oversized answer). Such a fault is charged to the node only once it is known to be the node's:
 * another node served the same request (`confirm`), or, when no other node could give its opinion,
 * the node failed a different request too within the breaker's window (`unresolved`). When another
 * node failed the same request, it was the request's fault (`absolve`).
 */
import type { Permit } from './breaker.js';
import type { Host } from './host.js';

interface Unconfirmed {
  fingerprint: string;
  at: number;
  counted: boolean;
}

/** The verdict on one suspect fault; exactly one of its methods takes effect. */
export interface SuspectVerdict {
  readonly node: string;
  readonly signature: string;
  confirm(): void;
  absolve(): void;
  /** No other node gave its opinion: charge the node only if it fails other requests as well. */
  unresolved(isPoisonSignature: (signature: string) => boolean): void;
}

export class SuspectLedger {
  private readonly recent: Unconfirmed[] = [];

  constructor(
    private readonly host: Host,
    private readonly windowMs: number,
  ) {}

  open(permit: Permit, fingerprint: string, signature: string, message: string): SuspectVerdict {
    let settled = false;
    const settle = (failure: boolean) => {
      if (settled) return;
      settled = true;
      this.host.breaker.record(permit, failure ? 'failure' : 'neutral');
      if (failure) this.host.noteFault(message);
    };
    return {
      node: this.host.name,
      signature,
      confirm: () => settle(true),
      absolve: () => settle(false),
      unresolved: (isPoisonSignature) => {
        if (settled) return;
        if (isPoisonSignature(signature)) return settle(false);
        const now = performance.now();
        this.prune(now);
        const others = this.recent.filter((entry) => entry.fingerprint !== fingerprint);
        this.recent.push({ fingerprint, at: now, counted: others.length > 0 });
        if (others.length === 0) return settle(false);
        // The node fails different requests: a faulty node. The earlier ones count now too.
        for (const entry of others) {
          if (entry.counted) continue;
          entry.counted = true;
          this.host.breaker.record({ probe: false }, 'failure');
          this.host.noteFault(message);
        }
        settle(true);
      },
    };
  }

  private prune(now: number): void {
    while (this.recent.length > 0 && (now - this.recent[0]!.at > this.windowMs || this.recent.length > 64)) this.recent.shift();
  }
}
