/**
 * Failure classes. Every answer (or non-answer) from a node is classified once, here; the rest of
 * the code speaks of the class. See docs/architecture.md for the table.
 */

/** Piston refused the request itself (HTTP 400): never the node's fault, never retried blindly. */
export class PistonRequestError extends Error {
  override readonly name = 'PistonRequestError';
  constructor(
    message: string,
    readonly status: number,
    readonly node: string,
  ) {
    super(message);
  }

  /** Piston's `LANG-VERSION runtime is unknown`: the only request error worth a catalog refresh. */
  get isUnknownRuntime(): boolean {
    return this.message.endsWith('runtime is unknown');
  }
}

export type NodeFaultReason =
  | 'connect' // refused, DNS, unreachable, connect timeout
  | 'closed' // the pool was closed before the request went out
  | 'timeout' // no answer in time
  | 'reset' // the connection broke after the request was sent
  | 'status' // 5xx or another status Piston does not use for requests
  | 'garbage' // an answer that is not Piston's JSON
  | 'too_large' // an answer over the configured size cap
  | 'internal'; // Piston answered 200 with status XX (sandbox failure)

/** The node failed us. `sent` says whether the request may have reached it (matters for retries). */
export class NodeFaultError extends Error {
  override readonly name = 'NodeFaultError';
  constructor(
    message: string,
    readonly node: string,
    readonly reason: NodeFaultReason,
    readonly sent: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The caller gave up (MCP cancellation, shutdown): not a fault of anyone. */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor(message = 'the call was cancelled') {
    super(message);
  }
}

const BEFORE_SEND_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const CLOSED_CODES = new Set(['UND_ERR_DESTROYED', 'UND_ERR_CLOSED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Classifies a transport-level error thrown by undici. */
export function classifyTransportError(error: unknown, node: string): NodeFaultError {
  if (error instanceof NodeFaultError) return error;
  const code = errorCode(error) ?? 'UNKNOWN';
  if (BEFORE_SEND_CODES.has(code)) return new NodeFaultError(`cannot connect to node ${node} (${code})`, node, 'connect', false);
  if (CLOSED_CODES.has(code)) return new NodeFaultError(`connection pool of node ${node} is closed`, node, 'closed', false);
  if (TIMEOUT_CODES.has(code)) return new NodeFaultError(`node ${node} did not answer in time`, node, 'timeout', true);
  return new NodeFaultError(`connection to node ${node} failed after the request was sent (${code})`, node, 'reset', true);
}
