/**
 * The pipeline, and the only place that knows the order of its steps:
 * check input → resolve the route → admission (bounded queue with a deadline) → pick a node →
 * its dispatcher (limiter, breaker, wire, accounting) → the retry policy → one typed result or
 * one CallError. Each step is a module of its own (src/router/, src/cluster/).
 */
import type { ResolvedConfig } from './config/schema.js';
import type { Cluster } from './cluster/cluster.js';
import type { CatalogEntry } from './cluster/catalog.js';
import type { AttemptResult } from './cluster/dispatcher.js';
import type { SuspectVerdict } from './cluster/outlier.js';
import type { PoisonRecord } from './cluster/poison.js';
import { CallError, type CallErrorClass } from './errors.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { AttemptAbort, decide, type AttemptOutcome, type NodeFault } from './piston/outcome.js';
import { InvalidRequestError, prepareRequest, type PreparedRequest } from './request/prepare.js';
import type { ExecuteInput, ExecuteOutput } from './request/schema.js';
import { AdmissionQueue, type AdmissionLimits } from './router/admission.js';
import * as errors from './router/call-errors.js';
import { RetryBudget } from './router/retry-budget.js';
import { nextStep, type Settlement } from './router/retry-policy.js';
import { resolveRoute, type Route } from './router/route.js';
import type { ClusterStatus } from './router/status.js';

export interface ProgressUpdate {
  stage: 'queued' | 'running' | 'heartbeat' | 'retrying';
  message: string;
  node?: string;
  position?: number;
}

export interface CallContext {
  signal?: AbortSignal;
  onProgress?: (update: ProgressUpdate) => void;
  requestId?: string;
  logger?: Logger;
  /** Who asked (the front's client key): calls of one client get a fair share of the queue. */
  client?: string;
}

export interface CallReport {
  outcome: 'ok' | CallErrorClass;
  code?: string;
  node?: string;
  attempts: number;
  queuedMs: number;
  totalMs: number;
}

/** An attempt's outcome as metrics label it: its class, with breaker refusals apart. */
export type AttemptLabel = 'ok' | 'request_error' | 'node_fault' | 'breaker_open' | 'cancelled';

export interface RouterHooks {
  callFinished?(report: CallReport): void;
  attemptFinished?(node: string, outcome: AttemptLabel, ms: number, reason?: string): void;
  retried?(from: string, reason: string): void;
  /** A request found poisoned: it failed the same way on two nodes. */
  poisoned?(nodes: string[]): void;
}

export interface RouterOptions {
  logger?: Logger;
  hooks?: RouterHooks;
  heartbeatMs?: number;
}

const EXPECTED_LIMITS = ['run_timeout', 'compile_timeout'] as const;

export class Router {
  private readonly admission: AdmissionQueue;
  private readonly budget: RetryBudget;
  private readonly logger: Logger;
  private readonly hooks: RouterHooks;
  private readonly heartbeatMs: number;
  /** Running calls' controllers, so that a drain can cancel what outlives its grace period. */
  private readonly inflight = new Set<AbortController>();
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
    const route = resolveRoute(entries, prepared, input.language, input.version, (node) => this.cluster.get(node)?.host.config.caps);
    const poisoned = this.cluster.poison.request(route.fingerprint);
    if (poisoned) throw errors.poisoned(poisoned);
    this.budget.recordCall();
    const enqueued = performance.now();
    const onQueued = (position: number) => context.onProgress?.({ stage: 'queued', message: `queued at position ${position}`, position });
    return this.admission.run(context.signal, onQueued, async () => {
      report.queuedMs = performance.now() - enqueued;
      const started = performance.now();
      try {
        return await this.attempts(route, prepared, input, context, report);
      } finally {
        this.admission.observeServiceMs(performance.now() - started);
      }
    }, context.client);
  }

  private attemptTimeoutMs(input: ExecuteInput, caps: Record<(typeof EXPECTED_LIMITS)[number], number>, remainingMs: number): number {
    let expected = 0;
    for (const name of EXPECTED_LIMITS) {
      const value = input[name] ?? caps[name];
      if (value > 0) expected += value;
    }
    return Math.max(1, Math.min(remainingMs, expected + this.config.client.answer_margin_ms));
  }

  /** The attempts of one admitted call, node after node, as the retry policy says. */
  private async attempts(route: Route, prepared: PreparedRequest, input: ExecuteInput, context: CallContext, report: CallReport): Promise<ExecuteOutput> {
    const deadline = performance.now() + this.config.retry.deadline_ms;
    const controller = new AbortController();
    this.inflight.add(controller);
    const onCancel = () => controller.abort(new AttemptAbort('cancelled', 'the call was cancelled'));
    if (context.signal?.aborted) onCancel();
    else context.signal?.addEventListener('abort', onCancel, { once: true });
    let candidates = route.candidates;
    const tried = new Set<string>();
    /** Nodes this call must not go back to (their fault was not a passing one). */
    const excluded = new Set<string>();
    const failures: NodeFault[] = [];
    const suspects: SuspectVerdict[] = [];
    const settle = (how: Settlement) => {
      if (how === 'keep') return;
      for (const verdict of suspects.splice(0)) {
        if (how === 'confirm') verdict.confirm();
        else verdict.absolve();
      }
    };
    try {
      for (;;) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) {
          throw new CallError('node_fault', 'deadline', `no node answered within the call's deadline of ${this.config.retry.deadline_ms} ms (${failures.map((f) => f.message).join('; ') || 'still running'})`);
        }
        if (controller.signal.aborted) throw errors.cancelled(abortMessage(controller.signal.reason));
        const dispatcher = this.cluster.pick(candidates, excluded, tried);
        if (!dispatcher) {
          throw errors.noNode(route.language, route.version, this.cluster.status().filter((node) => candidates.includes(node.name)), failures, report.attempts);
        }
        const node = dispatcher.host.name;
        tried.add(node);
        report.attempts++;
        if (report.attempts > 1) context.onProgress?.({ stage: 'retrying', message: `retrying on node ${node} (attempt ${report.attempts})`, node });
        context.onProgress?.({ stage: 'running', message: `running on node ${node}`, node });
        const heartbeat = this.startHeartbeat(node, context);
        let result: AttemptResult;
        try {
          result = await dispatcher.execute({ body: route.body, fingerprint: route.fingerprint, timeoutMs: this.attemptTimeoutMs(input, dispatcher.host.config.caps, remaining), signal: controller.signal });
        } finally {
          if (heartbeat) clearInterval(heartbeat);
        }
        const outcome = result.outcome;
        if (!decide(outcome).sameNodeAgain) excluded.add(node);
        this.hooks.attemptFinished?.(node, attemptLabel(outcome), result.ms, outcome.class === 'node_fault' ? outcome.reason : undefined);
        if (outcome.class === 'node_fault') {
          failures.push(outcome);
          if (outcome.reason !== 'breaker_open') (context.logger ?? this.logger).warn({ node, reason: outcome.reason, sent: outcome.sent, status: outcome.status }, 'attempt failed');
        }
        if (outcome.class === 'node_fault' && outcome.reason === 'breaker_open') report.attempts--;
        const step = nextStep(outcome, {
          attempts: report.attempts,
          maxAttempts: Math.max(1, this.config.retry.max_attempts),
          retryAfterSend: this.config.retry.after_send,
          suspectElsewhere: suspects.some((verdict) => verdict.node !== node),
        });
        if (result.verdict) suspects.push(result.verdict);
        const poison = step.kind === 'poisoned' ? this.rememberPoison(route, suspects, outcome) : undefined;
        settle(step.settle);
        switch (step.kind) {
          case 'answer':
            return this.answer(outcome, node, report);
          case 'reject':
          case 'stop':
            throw errors.afterAttempts(outcome, failures, report.attempts);
          case 'poisoned':
            throw errors.poisoned(poison!);
          case 'retry': {
            if (outcome.class === 'node_fault' && outcome.reason !== 'breaker_open' && !this.budget.tryRetry()) {
              throw errors.afterAttempts(outcome, failures, report.attempts);
            }
            if (step.refreshCatalog) {
              await this.cluster.catalog.refresh(node);
              const refreshed = await this.cluster.runtimes();
              const again = resolveRoute(refreshed, prepared, input.language, input.version, (name) => this.cluster.get(name)?.host.config.caps);
              if (again.version !== route.version || again.candidates.every((name) => excluded.has(name))) throw errors.afterAttempts(outcome, failures, report.attempts);
              candidates = again.candidates;
            }
            if (outcome.class === 'node_fault' && outcome.reason !== 'breaker_open') this.hooks.retried?.(node, outcome.reason);
            continue;
          }
        }
      }
    } finally {
      // Suspect faults no other node gave its opinion on: charged only to a node that fails other requests too.
      for (const verdict of suspects.splice(0)) verdict.unresolved((signature) => this.cluster.poison.isPoisonSignature(signature));
      context.signal?.removeEventListener('abort', onCancel);
      this.inflight.delete(controller);
    }
  }

  private answer(outcome: AttemptOutcome, node: string, report: CallReport): ExecuteOutput {
    if (outcome.class !== 'program_outcome') throw new Error('answer() needs a program outcome');
    const result = outcome.result;
    return {
      language: result.language,
      version: result.version,
      node,
      run: result.run,
      ...(result.compile ? { compile: result.compile } : {}),
      attempts: report.attempts,
      queued_ms: Math.round(report.queuedMs * 10) / 10,
    };
  }

  private rememberPoison(route: Route, verdicts: SuspectVerdict[], last: AttemptOutcome): PoisonRecord {
    const fault = last as NodeFault;
    const record: PoisonRecord = { detail: fault.detail || fault.message, nodes: [...new Set(verdicts.map((verdict) => verdict.node))] };
    this.cluster.poison.remember(route.fingerprint, [...new Set(verdicts.map((verdict) => verdict.signature))], record);
    this.hooks.poisoned?.(record.nodes);
    this.logger.warn({ nodes: record.nodes, detail: record.detail }, 'request failed the same way on two nodes: answered as a request error, charged to no node');
    return record;
  }

  private startHeartbeat(node: string, context: CallContext): NodeJS.Timeout | undefined {
    if (!context.onProgress) return undefined;
    const started = performance.now();
    const timer = setInterval(() => {
      context.onProgress?.({ stage: 'heartbeat', message: `still running on node ${node} (${Math.round((performance.now() - started) / 1000)} s)`, node });
    }, this.heartbeatMs);
    timer.unref();
    return timer;
  }

  async listRuntimes(): Promise<CatalogEntry[]> {
    return this.cluster.runtimes();
  }

  status(): ClusterStatus {
    return {
      queue: { waiting: this.admission.size, running: this.admission.running, max_queue: this.config.admission.max_queue, max_wait_ms: this.config.admission.max_wait_ms, slots: this.admission.slots },
      nodes: this.cluster.status(),
    };
  }

  /**
   * Stops taking calls: queued calls are answered at once with a clear error, running calls get up
   * to `graceMs` to finish and are then cancelled with an error that says why.
   */
  async drain(graceMs: number): Promise<void> {
    this.stopAccepting();
    const settled = () => Promise.allSettled([...this.calls]).then(() => 'settled' as const);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const outcome = await Promise.race([settled(), grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
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
    for (const controller of this.inflight) controller.abort(new AttemptAbort('cancelled', 'pistom is closing'));
    await this.cluster.close();
  }
}

function admissionLimits(config: ResolvedConfig): AdmissionLimits {
  const { max_queue: maxQueue, max_wait_ms: maxWaitMs, max_queued_per_client: maxQueuedPerClient } = config.admission;
  return { slots: config.nodes.reduce((sum, node) => sum + node.max_concurrent, 0), maxQueue, maxWaitMs, maxQueuedPerClient };
}

function attemptLabel(outcome: AttemptOutcome): AttemptLabel {
  if (outcome.class === 'program_outcome') return 'ok';
  if (outcome.class === 'node_fault' && outcome.reason === 'breaker_open') return 'breaker_open';
  return outcome.class;
}

function abortMessage(reason: unknown): string {
  return reason instanceof Error && reason.message ? reason.message : 'the call was cancelled';
}
