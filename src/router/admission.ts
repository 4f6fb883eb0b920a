/**
 * Admission: one bounded queue in front of the cluster (p-queue), with as many slots as the nodes
 * together. At most `maxQueue` calls wait, each for at most `maxWaitMs`; past either bound a call is
 * refused at once with a retry hint. A shutdown answers every waiting call.
 *
 * Fair shares, for calls that name their client: a client alone may use the whole queue, but when
 * the queue is full, a call from a client holding fewer waiting places displaces the newest waiting
 * call of the client holding the most (refused as queue_full, saying why). Waiting calls start in
 * rounds (p-queue priorities): every client's first call in admission before any client's second,
 * and so on. One client's flood (a batch of hundreds of long calls) then neither locks others out
 * of the queue nor delays them by more than a round. `maxQueuedPerClient` adds a hard cap.
 */
import PQueue from 'p-queue';
import { CallError } from '../errors.js';

export interface AdmissionLimits {
  slots: number;
  maxQueue: number;
  maxWaitMs: number;
  /** Waiting calls one client may hold; unlimited when absent. */
  maxQueuedPerClient?: number;
}

/** One client's calls inside admission: the waiting ones (oldest first), and all admitted (waiting or running). */
interface Share {
  waiting: AbortController[];
  admitted: number;
}

export class AdmissionQueue {
  private readonly queue: PQueue;
  private limits: AdmissionLimits;
  private readonly waiting = new Set<AbortController>();
  private readonly shares = new Map<string, Share>();
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

  /** Clients with calls in admission (for tests: it returns to 0). */
  get clients(): number {
    return this.shares.size;
  }

  /**
   * Runs `task` once a slot is free, within the queue's bounds. `onQueued` is told the position
   * when the call has to wait. A cancellation while waiting ends the call. `client` names the
   * caller for its fair share (calls without one share nothing and are limited only by maxQueue).
   */
  async run<T>(signal: AbortSignal | undefined, onQueued: (position: number) => void, task: () => Promise<T>, client?: string): Promise<T> {
    if (this.stopped) throw this.stopped();
    const { maxQueue, maxWaitMs, maxQueuedPerClient } = this.limits;
    const full = this.queue.pending >= this.queue.concurrency || this.queue.size > 0;
    const share = client === undefined ? undefined : this.shares.get(client);
    const waiting = share?.waiting.length ?? 0;
    if (full && maxQueuedPerClient !== undefined && client !== undefined && waiting >= maxQueuedPerClient) {
      const retryAfter = this.retryAfterMs();
      throw new CallError('overload', 'queue_full', `this client already has ${waiting} calls waiting for a slot (limit ${maxQueuedPerClient} per client, admission.max_queued_per_client); retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter);
    }
    if (full && this.queue.size >= maxQueue && !(client !== undefined && this.displaceFor(waiting, maxQueue))) {
      const retryAfter = this.retryAfterMs();
      throw new CallError('overload', 'queue_full', `the cluster is overloaded: ${this.queue.size} calls are already waiting (limit ${maxQueue}); retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter);
    }
    const mine = client === undefined ? undefined : (share ?? this.shareOf(client));
    if (mine) mine.admitted++;
    try {
      // A free slot and nobody waiting: the call starts now, so it needs no wait timer or cancel hook.
      if (!full) return await this.queue.add(task);
      return await this.waitForSlot(signal, onQueued, task, maxWaitMs, mine);
    } finally {
      if (mine && --mine.admitted === 0) this.shares.delete(client!);
    }
  }

  /**
   * The queue is full: refuses the newest waiting call of the client holding the most places, if it
   * holds more than one more than the caller (`waiting`), so that the caller's call can wait instead.
   */
  private displaceFor(waiting: number, maxQueue: number): boolean {
    let heaviest: Share | undefined;
    for (const share of this.shares.values()) if (!heaviest || share.waiting.length > heaviest.waiting.length) heaviest = share;
    if (!heaviest || heaviest.waiting.length <= waiting + 1) return false;
    const retryAfter = this.retryAfterMs();
    const held = heaviest.waiting.length;
    heaviest.waiting.pop()!.abort(new CallError('overload', 'queue_full', `the cluster is overloaded and its queue is full; this client held ${held} of its ${maxQueue} places, so its newest waiting call made room for another client's; retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter));
    return true;
  }

  private shareOf(client: string): Share {
    const share: Share = { waiting: [], admitted: 0 };
    this.shares.set(client, share);
    return share;
  }

  private async waitForSlot<T>(signal: AbortSignal | undefined, onQueued: (position: number) => void, task: () => Promise<T>, maxWaitMs: number, share: Share | undefined): Promise<T> {
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
    onQueued(this.queue.size + 1);
    // Rounds: a client's k-th call in admission waits behind every other client's (k-1)-th.
    const priority = share ? 1 - share.admitted : 0;
    share?.waiting.push(wait);
    const leave = () => {
      const index = share ? share.waiting.indexOf(wait) : -1;
      if (index >= 0) share!.waiting.splice(index, 1);
    };
    try {
      return await this.queue.add(
        () => {
          started = true;
          leave();
          this.waiting.delete(wait);
          clearTimeout(timer);
          return task();
        },
        { signal: wait.signal, priority },
      );
    } catch (error) {
      throw wait.signal.aborted && !started ? wait.signal.reason : error;
    } finally {
      leave();
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
