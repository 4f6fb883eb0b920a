/**
 * How one request ended. "answered" classes are results the target produced (the program may
 * still have failed); the others are failures of the request itself.
 */
import type { AttemptOutcome } from '../piston/outcome.js';
import type { PistonExecuteResponse, StageResult } from '../piston/types.js';

export const ANSWERED_CLASSES = ['ok', 'program_error'] as const;
export const FAILED_CLASSES = [
  'node_fault',
  'overload',
  'client_error',
  'transport_error',
  'timeout',
  'cancelled',
] as const;
export const OUTCOME_CLASSES = [...ANSWERED_CLASSES, ...FAILED_CLASSES] as const;
export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];

export const OUTCOME_DESCRIPTIONS: Record<OutcomeClass, string> = {
  ok: 'the program ran and exited 0',
  program_error: 'the program failed (compile error, non-zero exit, signal, time or output limit)',
  node_fault: 'a Piston node failed (5xx, reset, malformed answer, internal error XX)',
  overload: 'refused for overload (pistom queue full, HTTP 429/503)',
  client_error: 'the request was rejected as invalid (4xx, MCP request_error, input validation)',
  transport_error: 'the bench could not talk to pistom (connection refused/reset, bad HTTP)',
  timeout: 'no answer within --timeout',
  cancelled: 'cancelled (by pistom, or in flight when the run was interrupted)',
};

export function isAnswered(outcomeClass: OutcomeClass): boolean {
  return outcomeClass === 'ok' || outcomeClass === 'program_error';
}

export interface Outcome {
  class: OutcomeClass;
  /** The Piston node that ran the request (the node's URL for direct targets, pistom's `node` otherwise). */
  node?: string;
  /** pistom's queue wait before a node took the request. */
  queuedMs?: number;
  /** Wall time the node reports for compile + run. */
  runMs?: number;
  /** A short machine-readable cause, e.g. "HTTP 500", "RE", "ECONNRESET", pistom's error code. */
  code?: string;
  message?: string;
}

function stageFailed(stage: StageResult): boolean {
  return stage.status !== null || stage.code !== 0 || stage.signal !== null;
}

function stageWallMs(stage: StageResult | undefined): number | undefined {
  const wall = stage?.wall_time;
  return typeof wall === 'number' ? wall : undefined;
}

/**
 * A program's result (from a node directly or from pistom): it ran; did it succeed? Whether an
 * answer is a result at all (an XX is a sandbox fault, not a result) is the failure model's call:
 * see outcomeOfAttempt.
 */
export function classifyPistonResult(result: Pick<PistonExecuteResponse, 'run' | 'compile'>): Outcome {
  const { run, compile } = result;
  const runMs = sumDefined(stageWallMs(compile), stageWallMs(run));
  const timing = runMs === undefined ? {} : { runMs };
  if (compile && stageFailed(compile)) {
    return { class: 'program_error', code: `compile ${compile.status ?? `exit ${compile.code}`}`, ...timing };
  }
  if (stageFailed(run)) {
    return { class: 'program_error', code: run.status ?? (run.signal ? 'SG' : `exit ${run.code}`), ...timing };
  }
  return { class: 'ok', ...timing };
}

/** A node's answer, classified by pistom's failure model (src/piston/outcome.ts), in the bench's classes. */
export function outcomeOfAttempt(attempt: AttemptOutcome): Outcome {
  switch (attempt.class) {
    case 'program_outcome':
      return classifyPistonResult(attempt.result);
    case 'request_error':
      return { class: 'client_error', code: `HTTP ${attempt.status}`, message: attempt.message.slice(0, 200) };
    case 'cancelled':
      return { class: 'cancelled', code: 'CANCELLED', message: attempt.message };
    case 'node_fault': {
      const code = attempt.reason === 'sandbox' ? 'XX' : attempt.status !== undefined ? `HTTP ${attempt.status}` : attempt.reason.toUpperCase();
      const outcomeClass: OutcomeClass = attempt.reason === 'overloaded' ? 'overload' : attempt.reason === 'timeout' ? 'timeout' : 'node_fault';
      return { class: outcomeClass, code, message: (attempt.detail || attempt.message).slice(0, 200) };
    }
  }
}

function sumDefined(...values: (number | undefined)[]): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : defined.reduce((a, b) => a + b, 0);
}

/** pistom's own HTTP statuses: "too busy, try later", a bad request, or a failure of the transport. */
export function classifyHttpStatus(status: number): OutcomeClass {
  if (status === 429 || status === 503) return 'overload';
  if (status >= 400 && status < 500) return 'client_error';
  return 'transport_error';
}
