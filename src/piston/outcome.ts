/**
 * The failure model: every attempt on a node (an answer, or the error that replaced it) is
 * classified here, once, into one outcome; and one decision table says what each outcome means
 * for the node's breaker, for retries and for the runtime catalog. The router, the per-node
 * dispatcher, metrics and the load tester all read the class from here (docs/architecture.md).
 */
import { PistonExecuteResponse, type PistonRuntime, runtimeListProblem } from './types.js';

/** Why a node failed an attempt. */
export type FaultReason =
  | 'connect' // refused, DNS, unreachable, connect timeout: the request never left
  | 'closed' // pistom's own pool for the node was closed (reload), before sending
  | 'breaker_open' // the node's breaker refused the attempt before sending
  | 'reset' // the connection broke after the request was sent
  | 'timeout' // no whole answer within the attempt's deadline (a slow trickle included)
  | 'unresponsive' // the node stopped answering anything (a liveness probe failed) while the attempt waited
  | 'overloaded' // 429 or 503: the node (or a proxy in front) refused for load
  | 'status' // another 5xx
  | 'garbage' // an answer that is not Piston's JSON
  | 'too_large' // an answer over the configured size cap
  | 'sandbox' // Piston answered 200 with status XX (internal sandbox error)
  | 'misconfigured'; // 404/405/401/403 or a non-Piston answer: the node URL or credentials are wrong

export interface NodeFault {
  class: 'node_fault';
  reason: FaultReason;
  /** Whether the request may have reached the node (and may have run). */
  sent: boolean;
  /** pistom's own words, safe to show: names the node, never its URL credentials or headers. */
  message: string;
  status?: number;
  /** The node's own text (already redacted of every configured secret and shortened), if any. */
  detail?: string;
}

export interface ProgramOutcome {
  class: 'program_outcome';
  result: PistonExecuteResponse;
}

export interface RequestRejected {
  class: 'request_error';
  /** `unknown_runtime`: the node does not have the runtime (its list was stale). */
  code: 'rejected_by_node' | 'unknown_runtime';
  /** The node's message, redacted and shortened. */
  message: string;
  status: number;
}

export interface Cancelled {
  class: 'cancelled';
  message: string;
}

export type AttemptOutcome = ProgramOutcome | RequestRejected | NodeFault | Cancelled;

/** How an outcome counts for the node that produced it. */
export type NodeAccounting =
  | 'success' // a real answer: the node works
  | 'neutral' // says nothing about the node's health
  | 'fault' // counts against the node at once
  | 'suspect' // counts against the node only once confirmed: another node serves the same request,
  //             or the node fails other requests too. Two nodes failing the same request make it a
  //             poisoned request, counted against neither.
  | 'eject'; // the node is not usable as configured: taken out of rotation until a health check passes

export type RetryRule =
  | 'never'
  | 'other_node' // always safe: the request did not run
  | 'other_node_if_after_send' // it may have run: retry when retry.after_send allows (Piston runs are sandboxed)
  | 'other_node_after_catalog_refresh'; // the node's runtime list was stale

export interface Decision {
  accounting: NodeAccounting;
  retry: RetryRule;
  /** When no other node can take the retry, may it go back to this node? Only after a passing fault. */
  sameNodeAgain: boolean;
  refreshCatalog: boolean;
}

export type OutcomeKey = 'program_outcome' | 'request_error' | 'request_error/unknown_runtime' | `node_fault/${FaultReason}` | 'node_fault/status_500' | 'cancelled';

/** The decision table (docs/architecture.md shows it; test/unit/failure-model.test.ts checks it row by row). */
export const DECISIONS: Readonly<Record<OutcomeKey, Decision>> = {
  program_outcome: { accounting: 'success', retry: 'never', sameNodeAgain: false, refreshCatalog: false },
  request_error: { accounting: 'neutral', retry: 'never', sameNodeAgain: false, refreshCatalog: false },
  'request_error/unknown_runtime': { accounting: 'neutral', retry: 'other_node_after_catalog_refresh', sameNodeAgain: false, refreshCatalog: true },
  'node_fault/connect': { accounting: 'fault', retry: 'other_node', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/closed': { accounting: 'neutral', retry: 'other_node', sameNodeAgain: true, refreshCatalog: false },
  'node_fault/breaker_open': { accounting: 'neutral', retry: 'other_node', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/overloaded': { accounting: 'fault', retry: 'other_node', sameNodeAgain: true, refreshCatalog: false },
  'node_fault/misconfigured': { accounting: 'eject', retry: 'other_node', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/timeout': { accounting: 'fault', retry: 'other_node_if_after_send', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/unresponsive': { accounting: 'fault', retry: 'other_node_if_after_send', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/status': { accounting: 'fault', retry: 'other_node_if_after_send', sameNodeAgain: true, refreshCatalog: false },
  'node_fault/reset': { accounting: 'fault', retry: 'other_node_if_after_send', sameNodeAgain: true, refreshCatalog: false },
  'node_fault/garbage': { accounting: 'fault', retry: 'other_node_if_after_send', sameNodeAgain: true, refreshCatalog: false },
  // What a request can make a healthy Piston node answer: XX (a memory limit below the sandbox's
  // floor), 500 (a file name escaping the job folder), an answer over the size cap (a node whose
  // output limit is larger than pistom's). Broken connections and garbled answers are the
  // network's or the node's: a request cannot cause them on a working node.
  'node_fault/status_500': { accounting: 'suspect', retry: 'other_node_if_after_send', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/too_large': { accounting: 'suspect', retry: 'other_node_if_after_send', sameNodeAgain: false, refreshCatalog: false },
  'node_fault/sandbox': { accounting: 'suspect', retry: 'other_node_if_after_send', sameNodeAgain: false, refreshCatalog: false },
  cancelled: { accounting: 'neutral', retry: 'never', sameNodeAgain: false, refreshCatalog: false },
};

export function outcomeKey(outcome: AttemptOutcome): OutcomeKey {
  switch (outcome.class) {
    case 'program_outcome':
    case 'cancelled':
      return outcome.class;
    case 'request_error':
      return outcome.code === 'unknown_runtime' ? 'request_error/unknown_runtime' : 'request_error';
    case 'node_fault':
      return outcome.reason === 'status' && outcome.status === 500 ? 'node_fault/status_500' : `node_fault/${outcome.reason}`;
  }
}

export function decide(outcome: AttemptOutcome): Decision {
  return DECISIONS[outcomeKey(outcome)];
}

/**
 * What identifies "the same failure" across nodes and requests: the reason, the status and the
 * node's text with numbers blanked (sandbox box ids and byte counts vary from job to job).
 */
export function faultSignature(fault: NodeFault): string {
  return `${fault.reason}:${fault.status ?? ''}:${(fault.detail ?? '').replace(/\d+/g, '#').slice(0, 200)}`;
}

// ---------------------------------------------------------------------------------------------
// Classification of what came back.

/** Why pistom itself stopped an attempt: passed as the abort reason of the attempt's signal. */
export class AttemptAbort extends Error {
  override readonly name = 'AttemptAbort';
  constructor(
    readonly kind: 'cancelled' | 'timeout' | 'unresponsive',
    message: string,
  ) {
    super(message);
  }
}

/** Longest node text passed on (it is the node's, not ours: keep it short). */
const MAX_DETAIL_CHARS = 300;

export interface ClassifyContext {
  node: string;
  /** Removes configured secrets from the node's text. */
  redact: (text: string) => string;
  /** The URL requested, without credentials (for configuration errors). */
  url: string;
}

function detailOf(text: string, context: ClassifyContext): string {
  const redacted = context.redact(text);
  return redacted.length > MAX_DETAIL_CHARS ? `${redacted.slice(0, MAX_DETAIL_CHARS)}…` : redacted;
}

function fault(reason: FaultReason, sent: boolean, message: string, extra: Partial<Pick<NodeFault, 'status' | 'detail'>> = {}): NodeFault {
  return { class: 'node_fault', reason, sent, message, ...extra };
}

const BEFORE_SEND_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);
const CLOSED_CODES = new Set(['UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The first `code` along an error's cause chain (undici wraps socket errors). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What a cancelled call is told: the abort reason's own words when it has some. */
export function abortMessage(reason: unknown): string {
  return reason instanceof Error && reason.message ? reason.message : 'the call was cancelled';
}

/** An error instead of an answer. `abortReason` is the attempt signal's reason when it was aborted. */
export function classifyError(error: unknown, abortReason: unknown, context: ClassifyContext): NodeFault | Cancelled {
  if (abortReason !== undefined) {
    if (abortReason instanceof AttemptAbort && abortReason.kind === 'timeout') return fault('timeout', true, `node ${context.node} did not answer in time (${abortReason.message})`);
    if (abortReason instanceof AttemptAbort && abortReason.kind === 'unresponsive') return fault('unresponsive', true, `node ${context.node} stopped answering (${abortReason.message}); the call moved on`);
    return { class: 'cancelled', message: abortMessage(abortReason) };
  }
  const code = errorCode(error) ?? 'UNKNOWN';
  if (BEFORE_SEND_CODES.has(code)) return fault('connect', false, `cannot connect to node ${context.node} (${code})`);
  if (CLOSED_CODES.has(code)) return fault('closed', false, `the connection pool of node ${context.node} is closed`);
  if (TIMEOUT_CODES.has(code)) return fault('timeout', true, `node ${context.node} did not answer in time`);
  if (code === 'BODY_TOO_LARGE') return fault('too_large', true, `node ${context.node} answered more than ${(error as { limit?: number }).limit ?? 'the allowed'} bytes (client.max_response_bytes)`);
  return fault('reset', true, `the connection to node ${context.node} broke after the request was sent (${code})`);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function messageOf(value: unknown): string | undefined {
  const message = (value as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}

/** Answers that say the URL or the credentials are wrong, on any path. */
function configurationFault(status: number, text: string, context: ClassifyContext): NodeFault | undefined {
  if (status === 404 || status === 405 || status === 410) {
    return fault('misconfigured', true, `node ${context.node} answered HTTP ${status} for ${context.url}: that URL is not a Piston API. Give a self-hosted node's root (http://host:2000, pistom adds /api/v2) or the API's base path as published (e.g. https://emkc.org/api/v2/piston)`, { status, detail: detailOf(text, context) });
  }
  if (status === 401 || status === 403) {
    return fault('misconfigured', true, `node ${context.node} refused pistom's credentials (HTTP ${status}) for ${context.url}: check the node's headers (e.g. Authorization) in the configuration`, { status, detail: detailOf(text, context) });
  }
  return undefined;
}

function statusFault(status: number, text: string, context: ClassifyContext): NodeFault {
  const detail = detailOf(text, context);
  if (status === 429 || status === 503) return fault('overloaded', true, `node ${context.node} refused the request for load (HTTP ${status})`, { status, detail });
  return fault('status', true, `node ${context.node} answered HTTP ${status}${detail ? `: ${detail}` : ''}`, { status, detail });
}

/** The answer to POST {base}/execute. */
export function classifyExecuteAnswer(status: number, text: string, context: ClassifyContext): AttemptOutcome {
  const configuration = configurationFault(status, text, context);
  if (configuration) return configuration;
  if (status === 400) {
    const parsed = parseJson(text);
    const message = detailOf((parsed.ok ? messageOf(parsed.value) : undefined) ?? 'the node rejected the request', context);
    return { class: 'request_error', code: message.endsWith('runtime is unknown') ? 'unknown_runtime' : 'rejected_by_node', message, status };
  }
  if (status !== 200) return statusFault(status, text, context);
  const parsed = parseJson(text);
  if (!parsed.ok) return fault('garbage', true, `node ${context.node} answered ${text.length === 0 ? 'an empty body' : 'invalid JSON'}`);
  const result = PistonExecuteResponse.safeParse(parsed.value);
  if (!result.success) return fault('garbage', true, `node ${context.node} answered an execute result that is not Piston's`);
  const failed = result.data.compile?.status === 'XX' ? result.data.compile : result.data.run.status === 'XX' ? result.data.run : undefined;
  if (failed) {
    const detail = detailOf(failed.message ?? failed.stderr ?? '', context);
    return fault('sandbox', true, `node ${context.node} had an internal sandbox error (XX)${detail ? `: ${detail}` : ''}`, { detail });
  }
  return { class: 'program_outcome', result: result.data };
}

export type RuntimeListOutcome = { ok: true; runtimes: PistonRuntime[] } | { ok: false; fault: NodeFault };

export interface RuntimeListBounds {
  maxRuntimes: number;
}

/** The answer to GET {base}/runtimes (health checks and the catalog). */
export function classifyRuntimeListAnswer(status: number, text: string, context: ClassifyContext, bounds: RuntimeListBounds): RuntimeListOutcome {
  const configuration = configurationFault(status, text, context);
  if (configuration) return { ok: false, fault: configuration };
  if (status !== 200) return { ok: false, fault: statusFault(status, text, context) };
  const parsed = parseJson(text);
  if (!parsed.ok) return { ok: false, fault: fault('garbage', true, `node ${context.node} answered its runtime list with ${text.length === 0 ? 'an empty body' : 'invalid JSON'}`) };
  const problem = runtimeListProblem(parsed.value, bounds.maxRuntimes);
  if (problem) {
    // Valid JSON that is not a runtime list: something else answers at this URL.
    return { ok: false, fault: fault('misconfigured', true, `node ${context.node} answered ${context.url} with JSON that is not a Piston runtime list (${problem})`) };
  }
  return { ok: true, runtimes: parsed.value as PistonRuntime[] };
}
