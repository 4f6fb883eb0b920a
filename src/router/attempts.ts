/**
 * One admitted call's attempts, node after node: pick a node, let its dispatcher run the attempt,
 * ask the retry policy what next, settle suspect faults, and end with the answer or one CallError.
 * Within one deadline for the whole call and the retry budget.
 */
import type { ResolvedConfig } from '../config/schema.js';
import type { Cluster } from '../cluster/cluster.js';
import type { AttemptResult } from '../cluster/dispatcher.js';
import type { SuspectVerdict } from '../cluster/outlier.js';
import type { PoisonRecord } from '../cluster/poison.js';
import { CallError } from '../errors.js';
import type { Logger } from '../log.js';
import { abortMessage, AttemptAbort, decide, type AttemptOutcome, type NodeFault } from '../piston/outcome.js';
import type { PreparedRequest } from '../request/prepare.js';
import type { ExecuteInput, ExecuteOutput } from '../request/schema.js';
import * as errors from './call-errors.js';
import type { RetryBudget } from './retry-budget.js';
import { nextStep, type Settlement } from './retry-policy.js';
import { resolveRoute, versionRangesFor, type Route } from './route.js';
import type { AttemptLabel, CallContext, CallReport, RouterHooks } from './types.js';

export interface AttemptDeps {
  cluster: Cluster;
  budget: RetryBudget;
  hooks: RouterHooks;
  logger: Logger;
  heartbeatMs: number;
  /** Running calls' controllers, so that a shutdown can cancel them. */
  inflight: Set<AbortController>;
}

const EXPECTED_LIMITS = ['run_timeout', 'compile_timeout'] as const;

/** The attempt's deadline: the run and compile limits it asks for (or the node's caps), plus a margin. */
function attemptTimeoutMs(config: ResolvedConfig, input: ExecuteInput, caps: Record<(typeof EXPECTED_LIMITS)[number], number>, remainingMs: number): number {
  let expected = 0;
  for (const name of EXPECTED_LIMITS) {
    const value = input[name] ?? caps[name];
    if (value > 0) expected += value;
  }
  return Math.max(1, Math.min(remainingMs, expected + config.client.answer_margin_ms));
}

export async function runAttempts(deps: AttemptDeps, route: Route, prepared: PreparedRequest, input: ExecuteInput, context: CallContext, report: CallReport): Promise<ExecuteOutput> {
  const { cluster, hooks } = deps;
  const config = cluster.settings;
  const logger = context.logger ?? deps.logger;
  const deadline = performance.now() + config.retry.deadline_ms;
  const controller = new AbortController();
  deps.inflight.add(controller);
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
        throw new CallError('node_fault', 'deadline', `no node answered within the call's deadline of ${config.retry.deadline_ms} ms (${failures.map((f) => f.message).join('; ') || 'still running'})`);
      }
      if (controller.signal.aborted) throw errors.cancelled(abortMessage(controller.signal.reason));
      const dispatcher = cluster.pick(candidates, excluded, tried);
      if (!dispatcher) {
        throw errors.noNode(route.language, route.version, cluster.status().filter((node) => candidates.includes(node.name)), failures, report.attempts);
      }
      const node = dispatcher.name;
      tried.add(node);
      report.attempts++;
      if (report.attempts > 1) context.onProgress?.({ stage: 'retrying', message: `retrying on node ${node} (attempt ${report.attempts})`, node });
      context.onProgress?.({ stage: 'running', message: `running on node ${node}`, node });
      const heartbeat = startHeartbeat(node, context, deps.heartbeatMs);
      let result: AttemptResult;
      try {
        result = await dispatcher.execute({ body: route.body, fingerprint: route.fingerprint, timeoutMs: attemptTimeoutMs(config, input, dispatcher.caps, remaining), signal: controller.signal });
      } finally {
        if (heartbeat) clearInterval(heartbeat);
      }
      const outcome = result.outcome;
      if (!decide(outcome).sameNodeAgain) excluded.add(node);
      hooks.attemptFinished?.(node, attemptLabel(outcome), result.ms, outcome.class === 'node_fault' ? outcome.reason : undefined);
      if (outcome.class === 'node_fault') {
        failures.push(outcome);
        if (outcome.reason === 'breaker_open') report.attempts--;
        else logger.warn({ node, reason: outcome.reason, sent: outcome.sent, status: outcome.status }, 'attempt failed');
      }
      const step = nextStep(outcome, {
        attempts: report.attempts,
        maxAttempts: Math.max(1, config.retry.max_attempts),
        retryAfterSend: config.retry.after_send,
        suspectElsewhere: suspects.some((verdict) => verdict.node !== node),
      });
      if (result.verdict) suspects.push(result.verdict);
      const poison = step.kind === 'poisoned' ? rememberPoison(deps, route, suspects, outcome) : undefined;
      settle(step.settle);
      switch (step.kind) {
        case 'answer':
          return answer(outcome, node, report);
        case 'reject':
        case 'stop':
          throw errors.afterAttempts(outcome, failures, report.attempts, node);
        case 'poisoned':
          throw errors.poisoned(poison!);
        case 'retry': {
          const fault = outcome.class === 'node_fault' && outcome.reason !== 'breaker_open';
          if (fault && !deps.budget.tryRetry()) throw errors.afterAttempts(outcome, failures, report.attempts, node);
          if (step.refreshCatalog) {
            await cluster.refreshRuntimes(node);
            const again = resolveRoute(await cluster.runtimes(), prepared, input.language, input.version, (name) => cluster.capsOf(name), await versionRangesFor(input.version));
            if (again.version !== route.version || again.candidates.every((name) => excluded.has(name))) throw errors.afterAttempts(outcome, failures, report.attempts, node);
            candidates = again.candidates;
          }
          if (fault) hooks.retried?.(node, (outcome as NodeFault).reason);
          continue;
        }
      }
    }
  } finally {
    // Suspect faults no other node gave its opinion on: charged only to a node that fails other requests too.
    for (const verdict of suspects.splice(0)) verdict.unresolved((signature) => cluster.poison.isPoisonSignature(signature));
    context.signal?.removeEventListener('abort', onCancel);
    deps.inflight.delete(controller);
  }
}

function answer(outcome: AttemptOutcome, node: string, report: CallReport): ExecuteOutput {
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

function rememberPoison(deps: AttemptDeps, route: Route, verdicts: SuspectVerdict[], last: AttemptOutcome): PoisonRecord {
  const fault = last as NodeFault;
  const record: PoisonRecord = { detail: fault.detail || fault.message, nodes: [...new Set(verdicts.map((verdict) => verdict.node))] };
  deps.cluster.poison.remember(route.fingerprint(), [...new Set(verdicts.map((verdict) => verdict.signature))], record);
  deps.hooks.poisoned?.(record.nodes);
  deps.logger.warn({ nodes: record.nodes, detail: record.detail }, 'request failed the same way on two nodes: answered as a request error, charged to no node');
  return record;
}

function startHeartbeat(node: string, context: CallContext, everyMs: number): NodeJS.Timeout | undefined {
  if (!context.onProgress) return undefined;
  const started = performance.now();
  const timer = setInterval(() => {
    context.onProgress?.({ stage: 'heartbeat', message: `still running on node ${node} (${Math.round((performance.now() - started) / 1000)} s)`, node });
  }, everyMs);
  timer.unref();
  return timer;
}

function attemptLabel(outcome: AttemptOutcome): AttemptLabel {
  if (outcome.class === 'program_outcome') return 'ok';
  if (outcome.class === 'node_fault' && outcome.reason === 'breaker_open') return 'breaker_open';
  return outcome.class;
}
