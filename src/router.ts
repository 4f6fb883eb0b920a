/**
 * The pipeline, and the only place that knows the order of its steps:
 * check input → resolve the route → admission (bounded queue with a deadline) → pick a node →
 * its dispatcher (limiter, breaker, wire, accounting) → the retry policy → one typed result or
 * one CallError. Each step is a module of its own (src/router/, src/cluster/).
 */
import type { ResolvedConfig } from './config/schema.js';
import type { Cluster } from './cluster/cluster.js';
import type { CatalogEntry } from './cluster/catalog.js';
import { CallError } from './errors.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { AttemptAbort } from './piston/outcome.js';
import { InvalidRequestError, prepareRequest } from './request/prepare.js';
import type { ExecuteInput, ExecuteOutput } from './request/schema.js';
import { AdmissionQueue, type AdmissionLimits } from './router/admission.js';
import { runAttempts, type AttemptDeps } from './router/attempts.js';
import * as errors from './router/call-errors.js';
import { RetryBudget } from './router/retry-budget.js';
import { resolveRoute, versionRangesFor } from './router/route.js';
import type { ClusterStatus } from './router/status.js';
import type { CallContext, CallReport, RouterHooks } from './router/types.js';

export type { AttemptLabel, CallContext, CallReport, ProgressUpdate, RouterHooks } from './router/types.js';

export interface RouterOptions {
  logger?: Logger;
  hooks?: RouterHooks;
  heartbeatMs?: number;
}

export class Router {
  private readonly admission: AdmissionQueue;
  private readonly budget: RetryBudget;
  private readonly logger: Logger;
  private readonly hooks: RouterHooks;
  private readonly heartbeatMs: number;
  /** Running calls' controllers, so that a drain can cancel what outlives its grace period. */
  private readonly inflight = new Set<AbortController>();
  private readonly attemptDeps: AttemptDeps;
  /** Every call between entry and answer, queued, routing or running: what a drain waits for. */
  private readonly calls = new Set<Promise<unknown>>();
  private accepting = true;

  constructor(
    readonly cluster: Cluster,
    options: RouterOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger();
    this.hooks = options.hooks ?? {};
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.admission = new AdmissionQueue(admissionLimits(cluster.settings));
    this.budget = new RetryBudget(cluster.settings.retry.budget_ratio, cluster.settings.retry.budget_min_per_s);
    this.attemptDeps = { cluster, budget: this.budget, hooks: this.hooks, logger: this.logger, heartbeatMs: this.heartbeatMs, inflight: this.inflight };
  }

  private get config(): ResolvedConfig {
    return this.cluster.settings;
  }

  /** Applies a reloaded config (nodes, limits); calls in flight keep going. */
  reconfigure(config: ResolvedConfig): ReturnType<Cluster['reconfigure']> {
    const changes = this.cluster.reconfigure(config);
    this.admission.setLimits(admissionLimits(config));
    return changes;
  }

  get queueSize(): number {
    return this.admission.size;
  }

  get running(): number {
    return this.admission.running;
  }

  async execute(input: ExecuteInput, context: CallContext = {}): Promise<ExecuteOutput> {
    const started = performance.now();
    const report: CallReport = { outcome: 'ok', attempts: 0, queuedMs: 0, totalMs: 0 };
    const logger = context.logger ?? this.logger;
    const call = this.run(input, context, report);
    this.calls.add(call);
    try {
      const result = await call;
      report.node = result.node;
      return result;
    } catch (error) {
      const callError = this.toCallError(error, logger);
      report.outcome = callError.errorClass;
      report.code = callError.code;
      throw callError;
    } finally {
      this.calls.delete(call);
      report.totalMs = performance.now() - started;
      this.hooks.callFinished?.(report);
      logger.debug({ outcome: report.outcome, code: report.code, node: report.node, attempts: report.attempts, queued_ms: Math.round(report.queuedMs), total_ms: Math.round(report.totalMs) }, 'execute finished');
    }
  }

  private toCallError(error: unknown, logger: Logger): CallError {
    if (error instanceof CallError) return error;
    if (error instanceof InvalidRequestError) return new CallError('request_error', error.code, error.message);
    logger.error({ err: error }, 'unexpected error in the router');
    return new CallError('node_fault', 'internal', `internal error in pistom: ${(error as Error)?.message ?? String(error)}`);
  }

  private async run(input: ExecuteInput, context: CallContext, report: CallReport): Promise<ExecuteOutput> {
    if (!this.accepting) throw errors.shuttingDown();
    if (context.signal?.aborted) throw errors.cancelled();
    const prepared = prepareRequest(input);
    const entries = await this.cluster.runtimes();
    if (entries.length === 0) throw errors.noRuntimeList(this.cluster.status());
    const ranges = await versionRangesFor(input.version);
    const route = resolveRoute(entries, prepared, input.language, input.version, (node) => this.cluster.capsOf(node), ranges);
    const poisoned = this.cluster.poison.size > 0 ? this.cluster.poison.request(route.fingerprint()) : undefined;
    if (poisoned) throw errors.poisoned(poisoned);
    this.budget.recordCall();
    const enqueued = performance.now();
    const onQueued = (position: number) => context.onProgress?.({ stage: 'queued', message: `queued at position ${position}`, position });
    return this.admission.run(context.signal, onQueued, async () => {
      report.queuedMs = performance.now() - enqueued;
      const started = performance.now();
      try {
        return await runAttempts(this.attemptDeps, route, prepared, input, context, report);
      } finally {
        this.admission.observeServiceMs(performance.now() - started);
      }
    }, context.client);
  }

  async listRuntimes(): Promise<CatalogEntry[]> {
    return this.cluster.runtimes();
  }

  status(): ClusterStatus {
    const fleet = this.cluster.fleetSummary();
    return {
      queue: { waiting: this.admission.size, running: this.admission.running, max_queue: this.config.admission.max_queue, max_wait_ms: this.config.admission.max_wait_ms, slots: this.admission.slots },
      nodes: this.cluster.status(),
      ...(fleet ? { fleet } : {}),
    };
  }

  /**
   * Stops taking calls: queued calls are answered at once with a clear error (their client can
   * retry on another replica), running calls get up to `graceMs` to finish and are then cancelled
   * with an error that says why. With `finishQueued` (a stdio client that closed its input: there is
   * no other replica) the calls already received are served too, within the same grace period.
   */
  async drain(graceMs: number, options: { finishQueued?: boolean } = {}): Promise<void> {
    if (options.finishQueued) this.accepting = false;
    else this.stopAccepting();
    const settled = () => Promise.allSettled([...this.calls]).then(() => 'settled' as const);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([settled(), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.stopAccepting();
      for (const controller of this.inflight) controller.abort(new AttemptAbort('cancelled', `pistom is shutting down and this call ran past the ${graceMs} ms grace period; retry on another replica`));
      // An aborted attempt settles at once unless a node ignores the abort; do not wait on one forever.
      await Promise.race([settled(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
  }

  /** Refuses new calls and answers every queued one with the shutdown error. */
  private stopAccepting(): void {
    this.accepting = false;
    this.admission.stop(errors.shuttingDown);
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const controller of this.inflight) controller.abort(new AttemptAbort('cancelled', 'pistom is closing and cancelled the run; send the call again (to another replica, or once pistom is back)'));
    await this.cluster.close();
  }
}

function admissionLimits(config: ResolvedConfig): AdmissionLimits {
  const { max_queue: maxQueue, max_wait_ms: maxWaitMs, max_queued_per_client: maxQueuedPerClient } = config.admission;
  return { slots: config.nodes.reduce((sum, node) => sum + node.max_concurrent, 0), maxQueue, maxWaitMs, maxQueuedPerClient };
}
