import { errorCode as wireErrorCode } from '../../piston/outcome.js';
import type { Outcome, OutcomeClass } from '../outcome.js';

/** Why a request was aborted: the bench's own per-request timeout, or the end of the run. */
export type AbortCause = 'timeout' | 'cancelled';

export function abortCause(signal: AbortSignal): AbortCause {
  return signal.reason === 'timeout' ? 'timeout' : 'cancelled';
}

/** Classifies a thrown network-level error; `peerIsNode` says whether the peer is a Piston node. */
export function classifyThrown(error: unknown, signal: AbortSignal, peerIsNode: boolean): Outcome {
  if (signal.aborted) {
    const cause = abortCause(signal);
    return { class: cause, code: cause === 'timeout' ? 'TIMEOUT' : 'CANCELLED' };
  }
  const code = errorCode(error);
  const failedClass: OutcomeClass = peerIsNode ? 'node_fault' : 'transport_error';
  return { class: failedClass, code, message: errorMessage(error) };
}

/** The error's code (along its cause chain), or its name. */
export function errorCode(error: unknown): string {
  return wireErrorCode(error) || (error instanceof Error ? error.name : 'ERROR');
}

export function errorMessage(error: unknown): string {
  const base = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${base}${cause}`.slice(0, 300);
}
