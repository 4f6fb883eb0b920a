/**
 * The per-host dispatcher: one node's limiter (concurrency and optional rate, p-queue), with a
 * shared store the node's fleet-wide slot (src/cluster/fleet.ts), its breaker permit, the attempt
 * on the wire, and the accounting of the outcome in the host view as the decision table says. It also watches attempts for a node that went silent (StallClock) and
 * can move every attempt off a node that stopped answering.
 */
import PQueue from 'p-queue';
import type { NodeConfig } from '../config/schema.js';
import type { PistonClient } from '../piston/client.js';
import { abortMessage, AttemptAbort, decide, faultSignature, type AttemptOutcome, type NodeFault } from '../piston/outcome.js';
import type { Permit } from './breaker.js';
import type { SlotGate, SlotLease } from './fleet.js';
import type { Host } from './host.js';
import type { StallClock } from './liveness.js';
import { SuspectLedger, type SuspectVerdict } from './outlier.js';

export interface AttemptRequest {
  /** The Piston request body, serialized once per call. */
  body: string;
  /** Identifies the request across nodes (poison detection). */
  fingerprint: () => string;
  /** Deadline for this attempt's whole exchange. */
  timeoutMs: number;
  /** The call's cancellation. */
  signal: AbortSignal;
}

export interface AttemptResult {
  outcome: AttemptOutcome;
  /** From the attempt's start (limiter wait included) to its outcome. */
  ms: number;
  /** For a suspect fault: the verdict the caller settles once it knows whose fault it was. */
  verdict?: SuspectVerdict;
}

/** What the dispatcher needs of the wire (PistonClient; a stub in tests). */
export type NodeClient = Pick<PistonClient, 'execute' | 'runtimes' | 'close' | 'baseUrl'>;

export interface DispatcherSettings {
  suspectWindowMs: number;
  stallClock: StallClock;
  /** The node has answered nothing while an attempt waited past the stall threshold: probe it. */
  onStall: (host: Host) => void;
  /** The node's limits across every pistom process (shared store); absent: this process's limiter alone. */
  slots?: SlotGate;
}

export class HostDispatcher {
  private readonly limiter: PQueue;
  private readonly live = new Set<AbortController>();
  private readonly ledger: SuspectLedger;

  constructor(
    readonly host: Host,
    readonly client: NodeClient,
    private readonly settings: DispatcherSettings,
  ) {
    const config: NodeConfig = host.config;
    this.limiter = new PQueue({
      concurrency: config.max_concurrent,
      ...(config.rate_limit ? { intervalCap: config.rate_limit.requests, interval: config.rate_limit.interval_ms, carryoverIntervalCount: true } : {}),
    });
    this.ledger = new SuspectLedger(host, settings.suspectWindowMs);
  }

  /** The node's configured caps. */
  get caps(): NodeConfig['caps'] {
    return this.host.config.caps;
  }

  /** The node's name. */
  get name(): string {
    return this.host.name;
  }

  /** One attempt through the limiter, the breaker and the wire. Never throws. */
  async execute(request: AttemptRequest): Promise<AttemptResult> {
    const started = performance.now();
    if (!this.host.breaker.allows) return this.refused(started);
    this.host.queued++;
    let waiting = true;
    // The call's cancellation ends the wait for a slot; once the attempt runs, it ends the attempt
    // itself (the wire answers `cancelled` at once), so that its outcome is always accounted first.
    const wait = new AbortController();
    const onCallAbort = () => {
      if (waiting) wait.abort(request.signal.reason);
    };
    request.signal.addEventListener('abort', onCallAbort, { once: true });
    try {
      return await this.limiter.add(
        async () => {
          // A call waiting for the fleet's slot is still queued: the balancer must see it as load.
          const lease: SlotLease | undefined = this.settings.slots ? await this.settings.slots.acquire(this.host.config, wait.signal) : undefined;
          waiting = false;
          this.host.queued--;
          try {
            return await this.send(request, started);
          } finally {
            lease?.release();
          }
        },
        { signal: wait.signal },
      );
    } catch (error) {
      return { outcome: { class: 'cancelled', message: abortMessage(request.signal.reason ?? error) }, ms: performance.now() - started };
    } finally {
      if (waiting) this.host.queued--;
      request.signal.removeEventListener('abort', onCallAbort);
    }
  }

  private refused(started: number): AttemptResult {
    const wait = this.host.breaker.retryAfterMs();
    const outcome: NodeFault = { class: 'node_fault', reason: 'breaker_open', sent: false, message: `node ${this.host.name} is unavailable (circuit breaker open${wait > 0 ? `, next probe in ${wait} ms` : ''})` };
    return { outcome, ms: performance.now() - started };
  }

  private async send(request: AttemptRequest, started: number): Promise<AttemptResult> {
    const permit = this.host.breaker.tryAcquire();
    if (!permit) return this.refused(started);
    const controller = new AbortController();
    const onCallAbort = () => controller.abort(request.signal.reason);
    if (request.signal.aborted) onCallAbort();
    else request.signal.addEventListener('abort', onCallAbort, { once: true });
    this.live.add(controller);
    this.host.inFlight++;
    const sentAt = performance.now();
    let stall: NodeJS.Timeout | undefined;
    const watch = () => {
      stall = setTimeout(() => {
        // Silent since this attempt was sent: no answer to anyone, no passed health check.
        if (this.host.lastAnswerAt < sentAt) this.settings.onStall(this.host);
        watch();
      }, this.settings.stallClock.probeAfterMs());
      stall.unref();
    };
    watch();
    let outcome: AttemptOutcome;
    try {
      outcome = await this.client.execute(request.body, { signal: controller.signal, timeoutMs: request.timeoutMs });
    } finally {
      clearTimeout(stall);
      this.host.inFlight--;
      this.live.delete(controller);
      request.signal.removeEventListener('abort', onCallAbort);
    }
    const now = performance.now();
    return { outcome, ms: now - started, ...this.account(outcome, permit, request.fingerprint, now - sentAt, now) };
  }

  /** Records the outcome in the host view, as the decision table says. */
  private account(outcome: AttemptOutcome, permit: Permit, fingerprint: () => string, wireMs: number, now: number): { verdict?: SuspectVerdict } {
    const host = this.host;
    switch (decide(outcome).accounting) {
      case 'success':
        host.breaker.record(permit, 'success');
        host.latency.add(wireMs, now);
        host.completed++;
        host.lastAnswerAt = now;
        this.settings.stallClock.observe(wireMs);
        return {};
      case 'neutral':
        host.breaker.record(permit, 'neutral');
        if (outcome.class === 'request_error') host.lastAnswerAt = now;
        return {};
      case 'fault': {
        const fault = outcome as NodeFault;
        host.breaker.record(permit, 'failure');
        host.noteFault(fault.message);
        if (fault.sent) host.latency.add(wireMs, now);
        return {};
      }
      case 'eject': {
        const fault = outcome as NodeFault;
        host.breaker.record(permit, 'neutral');
        host.noteFault(fault.message);
        host.eject('misconfigured', fault.message);
        return {};
      }
      case 'suspect': {
        const fault = outcome as NodeFault;
        host.lastAnswerAt = now;
        return { verdict: this.ledger.open(permit, fingerprint(), faultSignature(fault), fault.message) };
      }
    }
  }

  /** Moves every attempt off this node: each ends as `unresponsive` and its call retries elsewhere. */
  abortInFlight(why: string): number {
    const count = this.live.size;
    for (const controller of this.live) controller.abort(new AttemptAbort('unresponsive', why));
    return count;
  }

  /** Resolves when no attempt is running or waiting on this node. */
  async drain(): Promise<void> {
    await this.limiter.onIdle();
  }

  async close(): Promise<void> {
    this.limiter.clear();
    this.host.close();
    await this.client.close();
  }
}
