/**
 * Piston's job slots: a fixed number of concurrent jobs and an unbounded FIFO queue behind them
 * (never a 429 or 503).
 */

export interface SlotStats {
  inFlight: number;
  queued: number;
  maxInFlight: number;
}

export class JobSlots {
  private inFlight = 0;
  private maxInFlight = 0;
  private readonly waiting: Array<{ grant: () => void; cancel: (error: Error) => void }> = [];
  private closed = false;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`slots must be a positive integer, got ${capacity}`);
  }

  /** Resolves once the job holds a slot; the caller must call the returned release exactly once. */
  acquire(): Promise<() => void> {
    if (this.closed) return Promise.reject(new Error('sim node closed'));
    if (this.inFlight < this.capacity) return Promise.resolve(this.take());
    return new Promise((resolve, reject) => {
      this.waiting.push({ grant: () => resolve(this.take()), cancel: reject });
    });
  }

  stats(): SlotStats {
    return { inFlight: this.inFlight, queued: this.waiting.length, maxInFlight: this.maxInFlight };
  }

  /** Rejects every queued job; jobs holding slots release them as they unwind. */
  close(): void {
    this.closed = true;
    const error = new Error('sim node closed');
    for (const waiter of this.waiting.splice(0)) waiter.cancel(error);
  }

  private take(): () => void {
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) next.grant();
    };
  }
}
