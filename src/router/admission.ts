/**
 * Admission: one bounded queue in front of the cluster (p-queue), with as many slots as the nodes
 * together. At most `maxQueue` calls wait, each for at most `maxWaitMs`; past either bound a call is
 * refused at once with a retry hint. A shutdown answers every waiting call.
 */
import PQueue from 'p-queue';
import { CallError } from '../errors.js';

export interface AdmissionLimits {
  slots: number;
  maxQueue: number;
  maxWaitMs: number;
}

export class AdmissionQueue {
  private readonly queue: PQueue;
  private limits: AdmissionLimits;
  private readonly waiting = new Set<AbortController>();
  private serviceEwmaMs = 100;
  private stopped: (() => CallError) | undefined;

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
    this.queue = new PQueue({ concurrency: Math.max(1, limits.slots) });
  }

  setLimits(limits: AdmissionLimits): void {
    this.limits = limits;
    this.queue.concurrency = Math.max(1, limits.slots);
  }

  get size(): number {
    return this.queue.size;
  }

  get running(): number {
    return this.queue.pending;
  }

  get slots(): number {
    return this.queue.concurrency;
  }

  /** How long one call holds a slot, on average (for retry hints). */
  observeServiceMs(ms: number): void {
    this.serviceEwmaMs += 0.1 * (ms - this.serviceEwmaMs);
  }

  retryAfterMs(): number {
    return Math.max(1000, Math.round((this.serviceEwmaMs * (this.queue.size + 1)) / Math.max(1, this.queue.concurrency)));
  }

  /**
   * Runs `task` once a slot is free, within the queue's bounds. `onQueued` is told the position
   * when the call has to wait. A cancellation while waiting ends the call.
   */
  async run<T>(signal: AbortSignal | undefined, onQueued: (position: number) => void, task: () => Promise<T>): Promise<T> {
    if (this.stopped) throw this.stopped();
    const { maxQueue, maxWaitMs } = this.limits;
    const full = this.queue.pending >= this.queue.concurrency;
    if (full && this.queue.size >= maxQueue) {
      const retryAfter = this.retryAfterMs();
      throw new CallError('overload', 'queue_full', `the cluster is overloaded: ${this.queue.size} calls are already waiting (limit ${maxQueue}); retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter);
    }
    const wait = new AbortController();
    this.waiting.add(wait);
    let started = false;
    const onCancel = () => {
      if (!started) wait.abort(new CallError('cancelled', 'cancelled', 'the call was cancelled while it waited for a slot'));
    };
    signal?.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(() => {
      const retryAfter = this.retryAfterMs();
      wait.abort(new CallError('overload', 'queue_timeout', `the cluster is overloaded: no slot freed up within ${maxWaitMs} ms; retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter));
    }, maxWaitMs);
    if (full) onQueued(this.queue.size + 1);
    try {
      return await this.queue.add(
        () => {
          started = true;
          this.waiting.delete(wait);
          clearTimeout(timer);
          return task();
        },
        { signal: wait.signal },
      );
    } catch (error) {
      throw wait.signal.aborted && !started ? wait.signal.reason : error;
    } finally {
      this.waiting.delete(wait);
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
    }
  }

  /** Refuses new calls from now on and answers every waiting one with `error()`. */
  stop(error: () => CallError): void {
    this.stopped = error;
    for (const wait of this.waiting) wait.abort(error());
    this.waiting.clear();
  }
}
