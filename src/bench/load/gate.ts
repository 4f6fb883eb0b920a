/**
 * Decides, for each request a driver wants to send, whether it is warm-up, measured, or past the
 * end of the run. Shared by the closed- and open-loop drivers so both stop on the same bounds.
 */
import { LIMITS } from '../options.js';

export type StopReason = 'duration' | 'requests' | 'interrupted' | 'max-duration';

export interface Ticket {
  measured: boolean;
}

export interface GateBounds {
  startMs: number;
  warmupMs: number;
  warmupRequests: number;
  durationMs: number;
  requests: number | undefined;
}

export class LoadGate {
  private issued = 0;
  private measuredIssued = 0;
  private measureStart: number | undefined;
  private stopReason: StopReason | undefined;
  private readonly stopController = new AbortController();

  constructor(private readonly bounds: GateBounds) {}

  /** Aborted once no more requests will be let through. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  get reason(): StopReason | undefined {
    return this.stopReason;
  }

  /** When the measured phase began (the first measured request's due time), if it has. */
  get measureStartMs(): number | undefined {
    return this.measureStart;
  }

  /** The time the measured phase is due to end by duration, once it has begun. */
  get measureEndMs(): number | undefined {
    return this.measureStart === undefined ? undefined : this.measureStart + this.bounds.durationMs;
  }

  get measuredCount(): number {
    return this.measuredIssued;
  }

  stop(reason: StopReason): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.stopController.abort(reason);
  }

  /** Ends the measured phase if its duration is up, whether or not a driver is asking for a ticket. */
  expire(atMs: number): void {
    if (this.measureStart !== undefined && atMs >= this.measureStart + this.bounds.durationMs) {
      this.stop(this.durationReason());
    }
  }

  /** A ticket for a request due at `atMs`, or null when the run is over. */
  next(atMs: number): Ticket | null {
    if (this.stopReason) return null;
    const { startMs, warmupMs, warmupRequests, durationMs, requests } = this.bounds;
    const warmingUp = this.issued < warmupRequests || atMs < startMs + warmupMs;
    if (warmingUp) {
      if (atMs - startMs > warmupMs + LIMITS.maxDurationMs) return this.stopped('max-duration');
      this.issued++;
      return { measured: false };
    }
    this.measureStart ??= atMs;
    if (atMs >= this.measureStart + durationMs) {
      return this.stopped(this.durationReason());
    }
    if (requests !== undefined && this.measuredIssued >= requests) return this.stopped('requests');
    this.issued++;
    this.measuredIssued++;
    return { measured: true };
  }

  private durationReason(): StopReason {
    return this.bounds.durationMs >= LIMITS.maxDurationMs ? 'max-duration' : 'duration';
  }

  private stopped(reason: StopReason): null {
    this.stop(reason);
    return null;
  }
}
