/**
 * The retry policy, pure: what a call does after one attempt's outcome, read from the decision
 * table (src/piston/outcome.ts) and the call's state. It does no I/O: the orchestrator (router.ts)
 * picks the next node, takes the retry from the budget and settles suspect faults as told.
 */
import { decide, type AttemptOutcome } from '../piston/outcome.js';

export interface CallState {
  /** Attempts made so far, this one included. */
  attempts: number;
  maxAttempts: number;
  /** retry.after_send: whether an attempt that may have run is retried elsewhere. */
  retryAfterSend: boolean;
  /** Whether a suspect fault of this same request is pending from another node. */
  suspectElsewhere: boolean;
}

/** What to do with suspect faults still pending from earlier attempts of this call. */
export type Settlement = 'confirm' | 'absolve' | 'keep';

export type Step =
  /** A program outcome: it is the answer. The nodes that failed this request before were at fault. */
  | { kind: 'answer'; settle: 'confirm' }
  /** A node refused the request itself: answer the client with that. Earlier suspect faults were the request's too. */
  | { kind: 'reject'; settle: 'absolve' }
  /** Two nodes failed this request the same way: it is poisoned; absolve them all and say what to change. */
  | { kind: 'poisoned'; settle: 'absolve' }
  | { kind: 'retry'; refreshCatalog: boolean; settle: Settlement }
  /** Stop here and answer with the failures so far. */
  | { kind: 'stop'; why: 'cancelled' | 'not_retryable' | 'attempts_exhausted'; settle: Settlement };

export function nextStep(outcome: AttemptOutcome, state: CallState): Step {
  const decision = decide(outcome);
  if (outcome.class === 'program_outcome') return { kind: 'answer', settle: 'confirm' };
  if (outcome.class === 'cancelled') return { kind: 'stop', why: 'cancelled', settle: 'keep' };
  if (decision.accounting === 'suspect' && state.suspectElsewhere) return { kind: 'poisoned', settle: 'absolve' };
  const retryable =
    decision.retry === 'other_node' ||
    decision.retry === 'other_node_after_catalog_refresh' ||
    (decision.retry === 'other_node_if_after_send' && (state.retryAfterSend || (outcome.class === 'node_fault' && !outcome.sent)));
  if (!retryable) return outcome.class === 'request_error' ? { kind: 'reject', settle: 'absolve' } : { kind: 'stop', why: 'not_retryable', settle: 'keep' };
  // A refusal before sending is not an attempt worth counting against max_attempts.
  const counts = !(outcome.class === 'node_fault' && outcome.reason === 'breaker_open');
  if (counts && state.attempts >= state.maxAttempts) return { kind: 'stop', why: 'attempts_exhausted', settle: 'keep' };
  return { kind: 'retry', refreshCatalog: decision.refreshCatalog, settle: 'keep' };
}
