/**
 * The pipeline, and the only place that knows the order of its steps:
 * check input → resolve runtime → admission (bounded queue with a deadline) → choice of node →
 * node limiter → node breaker → Piston over pooled HTTP → classification → retry elsewhere →
 * one typed result or one CallError.
 */
import PQueue from 'p-queue';
import type { ResolvedConfig } from './config/schema.js';
import { Cluster } from './cluster/cluster.js';
import { RuntimeCatalog, type CatalogEntry, type RuntimeChoice } from './cluster/catalog.js';
import type { ClusterNode } from './cluster/node.js';
import { RetryBudget } from './cluster/retry-budget.js';
import { CallError, type CallErrorClass } from './errors.js';
import type { Logger } from './log.js';
import { silentLogger } from './log.js';
import { CancelledError, NodeFaultError, PistonRequestError } from './piston/errors.js';
import { buildBody, capViolation, InvalidRequestError, prepareRequest, type PreparedRequest } from './request/prepare.js';
import type { ExecuteInput, ExecuteOutput } from './request/schema.js';

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
}

export interface CallReport {
  outcome: 'ok' | CallErrorClass;
  code?: string;
  node?: string;
  attempts: number;
  queuedMs: number;
  totalMs: number;
}

export interface RouterHooks {
  callFinished?(report: CallReport): void;
  attemptFinished?(node: string, outcome: 'ok' | 'request_error' | 'node_fault' | 'cancelled', ms: number, reason?: string): void;
  retried?(from: string, reason: string): void;
}

export interface RouterOptions {
  logger?: Logger;
  hooks?: RouterHooks;
  heartbeatMs?: number;
}

interface Route {
  choice: RuntimeChoice;
  body: string;
  bodyBytes: number;
  candidates: string[];
}

const EXPECTED_LIMITS = { run: 'run_timeout', compile: 'compile_timeout' } as const;

export class Router {
  private readonly admission: PQueue;
  private readonly budget: RetryBudget;
  private readonly logger: Logger;
  private readonly hooks: RouterHooks;
  private readonly heartbeatMs: number;
  private readonly inflight = new Set<AbortController>();
  /** Calls waiting in the admission queue, so that a shutdown can answer them. */
  private readonly waiting = new Set<AbortController>();
  /** Every call between entry and answer, queued, routing or running: what a drain waits for. */
  private readonly calls = new Set<Promise<unknown>>();
  private serviceEwmaMs = 100;
  private accepting = true;

  constructor(
    readonly cluster: Cluster,
    options: RouterOptions = {},
  ) {
    const config = cluster.settings;
    this.logger = options.logger ?? silentLogger();
    this.hooks = options.hooks ?? {};
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.admission = new PQueue({ concurrency: this.totalSlots(config) });
    this.budget = new RetryBudget(config.retry.budget_ratio, config.retry.budget_min_per_s);
  }

  private get config(): ResolvedConfig {
    return this.cluster.settings;
  }

  private totalSlots(config: ResolvedConfig): number {
    return Math.max(1, config.nodes.reduce((sum, node) => sum + node.max_concurrent, 0));
  }

  /** Applies a reloaded config (nodes, limits); calls in flight keep going. */
  reconfigure(config: ResolvedConfig): ReturnType<Cluster['reconfigure']> {
    const changes = this.cluster.reconfigure(config);
    this.admission.concurrency = this.totalSlots(config);
    return changes;
  }

  get queueSize(): number {
    return this.admission.size;
  }

  get running(): number {
    return this.admission.pending;
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
    if (error instanceof CancelledError) return new CallError('cancelled', 'cancelled', error.message);
    if (error instanceof PistonRequestError) return new CallError('request_error', 'rejected_by_node', `the node refused the request: ${error.message}`);
    if (error instanceof NodeFaultError) return new CallError('node_fault', error.reason, error.message);
    logger.error({ err: error }, 'unexpected error in the router');
    return new CallError('node_fault', 'internal', `internal error in pistom: ${(error as Error)?.message ?? String(error)}`);
  }

  private async run(input: ExecuteInput, context: CallContext, report: CallReport): Promise<ExecuteOutput> {
    if (!this.accepting) throw shuttingDownError();
    if (context.signal?.aborted) throw new CancelledError();
    const prepared = prepareRequest(input);
    const route = await this.route(prepared, input.language, input.version);
    this.budget.recordCall();

    const enqueued = performance.now();
    return this.admitted(context, () => {
      report.queuedMs = performance.now() - enqueued;
      return this.attempts(prepared, route, input, context, report);
    });
  }

  /** Resolves the runtime across the cluster and the nodes whose caps allow this request. */
  private async route(prepared: PreparedRequest, language: string, version: string | undefined): Promise<Route> {
    const entries = await this.cluster.runtimes();
    if (entries.length === 0) {
      throw new CallError('overload', 'no_node_available', 'no Piston node answered its runtime list: every node is unreachable right now; retry in a few seconds and check `pistom check`', 5000);
    }
    const resolution = RuntimeCatalog.resolve(entries, language, version);
    if (!resolution.ok) throw resolutionError(resolution, language);
    const choice = resolution.choice;
    const body = buildBody(prepared, choice.language, choice.version);
    const bodyBytes = Buffer.byteLength(body);
    const candidates: string[] = [];
    let refusal: { limit: string; value: number; cap: number } | undefined;
    for (const name of choice.nodes) {
      const node = this.cluster.get(name);
      if (!node) continue;
      const violation = capViolation(prepared, bodyBytes, node.config.caps);
      if (!violation) candidates.push(name);
      else if (!refusal || violation.cap > refusal.cap) refusal = violation;
    }
    if (candidates.length === 0 && refusal) {
      if (refusal.limit === 'body size') {
        throw new CallError('request_error', 'body_too_large', `the request body is ${refusal.value} bytes; the largest any node accepts is ${refusal.cap} bytes (Piston's limit is 100 KiB by default): send less code or data`);
      }
      throw new CallError('request_error', 'limit_over_cap', `${refusal.limit} ${refusal.value} is over every node's cap; the largest cap for ${choice.language}-${choice.version} is ${refusal.cap}`);
    }
    return { choice, body, bodyBytes, candidates };
  }

  /** Runs `task` once the global queue gives it a slot, within the queue's bounds. */
  private async admitted<T>(context: CallContext, task: () => Promise<T>): Promise<T> {
    // A call that was still resolving its runtime when the drain began must not slip in after it.
    if (!this.accepting) throw shuttingDownError();
    const { max_queue, max_wait_ms } = this.config.admission;
    const full = this.admission.pending >= this.admission.concurrency;
    if (full && this.admission.size >= max_queue) {
      throw new CallError('overload', 'queue_full', `the cluster is overloaded: ${this.admission.size} calls are already waiting (limit ${max_queue}); retry in about ${Math.ceil(this.retryAfterMs() / 1000)} s`, this.retryAfterMs());
    }
    const waitController = new AbortController();
    this.waiting.add(waitController);
    let started = false;
    const onCancel = () => {
      if (!started) waitController.abort(new CancelledError());
    };
    context.signal?.addEventListener('abort', onCancel, { once: true });
    const timer = setTimeout(() => {
      const retryAfter = this.retryAfterMs();
      waitController.abort(new CallError('overload', 'queue_timeout', `the cluster is overloaded: no slot freed up within ${max_wait_ms} ms; retry in about ${Math.ceil(retryAfter / 1000)} s`, retryAfter));
    }, max_wait_ms);
    if (full) context.onProgress?.({ stage: 'queued', message: `queued at position ${this.admission.size + 1}`, position: this.admission.size + 1 });
    try {
      return await this.admission.add(
        () => {
          started = true;
          this.waiting.delete(waitController);
          clearTimeout(timer);
          return task();
        },
        { signal: waitController.signal },
      );
    } finally {
      this.waiting.delete(waitController);
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', onCancel);
    }
  }

  private retryAfterMs(): number {
    const slots = Math.max(1, this.admission.concurrency);
    return Math.max(1000, Math.round((this.serviceEwmaMs * (this.admission.size + 1)) / slots));
  }

  private attemptTimeoutMs(input: ExecuteInput, node: ClusterNode, remainingMs: number): number {
    const caps = node.config.caps;
    const expected = (['run', 'compile'] as const).reduce((sum, stage) => {
      const name = EXPECTED_LIMITS[stage];
      const value = input[name] ?? caps[name];
      return sum + (value > 0 ? value : 0);
    }, 0);
    return Math.max(1, Math.min(remainingMs, expected + this.config.client.answer_margin_ms));
  }

  private async attempts(prepared: PreparedRequest, initial: Route, input: ExecuteInput, context: CallContext, report: CallReport): Promise<ExecuteOutput> {
    const deadline = performance.now() + this.config.retry.deadline_ms;
    const controller = new AbortController();
    this.inflight.add(controller);
    const onCancel = () => controller.abort(new CancelledError());
    context.signal?.addEventListener('abort', onCancel, { once: true });
    let route = initial;
    const unreachable = new Set<string>();
    const failures: string[] = [];
    let previous: string | undefined;
    const maxAttempts = Math.max(this.config.retry.max_attempts, 1);
    try {
      for (;;) {
        const remaining = deadline - performance.now();
        if (remaining <= 0) throw new CallError('node_fault', 'deadline', `no node answered within the call's deadline of ${this.config.retry.deadline_ms} ms (${failures.join('; ') || 'still running'})`);
        const node = this.cluster.pick(
          route.candidates.filter((name) => !unreachable.has(name)),
          previous,
        );
        if (!node) throw this.noNodeError(route, failures);
        report.attempts++;
        if (report.attempts > 1) context.onProgress?.({ stage: 'retrying', message: `retrying on node ${node.name} (attempt ${report.attempts})`, node: node.name });
        context.onProgress?.({ stage: 'running', message: `running on node ${node.name}`, node: node.name });
        const heartbeat = this.startHeartbeat(node.name, context);
        const attemptStarted = performance.now();
        try {
          const result = await node.execute({ body: route.body, timeoutMs: this.attemptTimeoutMs(input, node, remaining), signal: controller.signal });
          const ms = performance.now() - attemptStarted;
          this.serviceEwmaMs += 0.1 * (ms - this.serviceEwmaMs);
          this.hooks.attemptFinished?.(node.name, 'ok', ms);
          return {
            language: result.language,
            version: result.version,
            node: node.name,
            run: result.run,
            ...(result.compile ? { compile: result.compile } : {}),
            attempts: report.attempts,
            queued_ms: Math.round(report.queuedMs * 10) / 10,
          };
        } catch (error) {
          const ms = performance.now() - attemptStarted;
          if (controller.signal.aborted || error instanceof CancelledError) {
            this.hooks.attemptFinished?.(node.name, 'cancelled', ms);
            // Keep the reason a shutdown gave, so that the client learns why its call stopped.
            const reason: unknown = controller.signal.reason;
            throw reason instanceof CancelledError ? reason : new CancelledError();
          }
          if (error instanceof PistonRequestError) {
            this.hooks.attemptFinished?.(node.name, 'request_error', ms, error.message);
            if (!error.isUnknownRuntime) throw error;
            // The node's list was stale: refresh it, then try another node that really has the runtime.
            await this.cluster.catalog.refresh(node.name);
            unreachable.add(node.name);
            const refreshed = await this.route(prepared, input.language, input.version).catch(() => undefined);
            if (!refreshed || refreshed.candidates.every((name) => unreachable.has(name)) || report.attempts >= maxAttempts) {
              throw new CallError('request_error', 'unknown_runtime', `${error.message} on node ${node.name}, and no other node offers it; see list_runtimes`);
            }
            route = refreshed;
            previous = node.name;
            continue;
          }
          if (!(error instanceof NodeFaultError)) throw error;
          this.hooks.attemptFinished?.(node.name, 'node_fault', ms, error.reason);
          failures.push(error.message);
          context.logger?.warn({ node: node.name, reason: error.reason, sent: error.sent }, 'attempt failed');
          if (!error.sent) unreachable.add(node.name);
          const retryable = !error.sent || (this.config.retry.after_send && report.attempts < maxAttempts && this.budget.tryRetry());
          if (!retryable) throw new CallError('node_fault', error.reason, this.faultMessage(failures, report.attempts));
          this.hooks.retried?.(node.name, error.reason);
          previous = node.name;
        } finally {
          clearInterval(heartbeat);
        }
      }
    } finally {
      context.signal?.removeEventListener('abort', onCancel);
      this.inflight.delete(controller);
    }
  }

  private faultMessage(failures: string[], attempts: number): string {
    const last = failures.slice(-3).join('; ');
    return `the call failed on ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}. The cluster may be unhealthy; retry later or see cluster_status`;
  }

  private noNodeError(route: Route, failures: string[]): CallError {
    if (failures.length > 0) {
      return new CallError('node_fault', 'all_nodes_failed', `every node that offers ${route.choice.language}-${route.choice.version} failed: ${failures.slice(-3).join('; ')}. Retry later or see cluster_status`, 5000);
    }
    const nodes = route.candidates.map((name) => this.cluster.get(name)).filter((node): node is ClusterNode => node !== undefined);
    const retryAfter = Math.max(1000, ...nodes.map((node) => node.breakerRetryAfterMs()));
    return new CallError(
      'overload',
      'no_node_available',
      `no node can take ${route.choice.language}-${route.choice.version} right now (${nodes.map((node) => `${node.name}: ${!node.healthy ? 'unhealthy' : `breaker ${node.breakerState}`}`).join(', ')}); retry in about ${Math.ceil(retryAfter / 1000)} s`,
      retryAfter,
    );
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

  status(): { queue: { waiting: number; running: number; max_queue: number; max_wait_ms: number; slots: number }; nodes: ReturnType<Cluster['status']> } {
    return {
      queue: { waiting: this.admission.size, running: this.admission.pending, max_queue: this.config.admission.max_queue, max_wait_ms: this.config.admission.max_wait_ms, slots: this.admission.concurrency },
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
      for (const controller of this.inflight) controller.abort(new CancelledError(`pistom is shutting down and this call ran past the ${graceMs} ms grace period; retry on another replica`));
      // An aborted attempt settles at once unless a node ignores the abort; do not wait on one forever.
      await Promise.race([settled(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
  }

  /** Refuses new calls and answers every queued one with the shutdown error. */
  private stopAccepting(): void {
    this.accepting = false;
    for (const controller of this.waiting) controller.abort(shuttingDownError());
    this.waiting.clear();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const controller of this.inflight) controller.abort(new CancelledError('pistom is closing'));
    await this.cluster.close();
  }
}

function shuttingDownError(): CallError {
  return new CallError('overload', 'shutting_down', 'pistom is shutting down and takes no new calls; retry on another replica or in a few seconds', 1000);
}

function resolutionError(resolution: Exclude<ReturnType<typeof RuntimeCatalog.resolve>, { ok: true }>, language: string): CallError {
  switch (resolution.reason) {
    case 'unknown_language': {
      const close = resolution.suggestions.length > 0 ? ` Did you mean ${resolution.suggestions.map((s) => `"${s}"`).join(', ')}?` : '';
      const offered = resolution.languages.length <= 12 ? ` The cluster offers: ${resolution.languages.join(', ')}.` : ` The cluster offers ${resolution.languages.length} languages.`;
      return new CallError('request_error', 'unknown_language', `unknown language "${language}".${close}${offered} Call list_runtimes to see every language, version and alias.`);
    }
    case 'unknown_version':
      return new CallError('request_error', 'unknown_version', `no node offers ${resolution.language} in a version matching "${resolution.range}"; versions on the cluster: ${resolution.versions.join(', ')}. Use "*" for the newest.`);
    case 'invalid_version':
      return new CallError('request_error', 'invalid_version', `version "${resolution.version}" is not a semver range; use e.g. "3", "3.x", "^3.10", "3.11.2" or "*" for the newest`);
  }
}
