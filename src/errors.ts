/**
 * The one error type the router hands to the MCP layer: a failure class (see docs/architecture.md),
 * a stable code, a message that says what to do, and a retry hint for overload.
 */
export type CallErrorClass = 'request_error' | 'overload' | 'node_fault' | 'cancelled';

export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly errorClass: CallErrorClass,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  toJSON(): { class: CallErrorClass; code: string; message: string; retry_after_ms?: number } {
    return { class: this.errorClass, code: this.code, message: this.message, ...(this.retryAfterMs !== undefined ? { retry_after_ms: this.retryAfterMs } : {}) };
  }
}
