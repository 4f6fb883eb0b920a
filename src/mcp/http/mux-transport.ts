/**
 * Stateless Streamable HTTP without a server per request: one long-lived McpServer per era behind
 * one transport that multiplexes every HTTP exchange. Request ids are rewritten to ids unique to
 * this process on the way in and restored on the way out, so clients that all count from 1 never
 * collide, and everything the server sends about a request (its answer, its progress) goes to the
 * exchange that carried it and nowhere else. The SDK's own stateless handler builds a server per
 * request, which is what limits its throughput.
 *
 * The transport extends the SDK's per-request transport only so that connecting a server to it
 * binds that server to the 2026-07-28 revision, as the SDK's own entry does; every method that
 * touches the wire is pistom's.
 */
import { PerRequestHTTPServerTransport, type AuthInfo, type JSONRPCMessage, type MessageClassification, type RequestId, type TransportSendOptions } from '@modelcontextprotocol/server';
import { LATEST_MODERN_VERSION, RPC, type Era } from '../protocol.js';
import type { DeliveryReport } from '../delivery.js';

/** The side of one HTTP exchange that the transport writes to. */
export interface ExchangeSink {
  /** A notification tied to one of this exchange's requests (progress); may be dropped in JSON mode. */
  notify(message: JSONRPCMessage): void;
  /**
   * The answer to one request, with its original id restored. `early` when produced during
   * dispatch (a ladder rejection). `settle`, when given, is told whether the answer was delivered.
   */
  respond(message: JSONRPCMessage, early: boolean, settle?: (delivered: boolean) => void): void;
}


interface Route {
  sink: ExchangeSink;
  originalId: RequestId;
  /** Told the result when it comes (for answers a caller keeps, such as the tool list). */
  onResult?: (result: Record<string, unknown>) => void;
}

export class MultiplexTransport extends PerRequestHTTPServerTransport {
  private nextId = 1;
  private readonly routes = new Map<number, Route>();
  private readonly classification: MessageClassification | undefined;
  private dispatching = false;
  private closed = false;
  /** Told what became of each answer; set by whoever counts calls. */
  delivery: DeliveryReport | undefined;

  constructor(readonly era: Era) {
    const classification: MessageClassification = era === 'modern' ? { era: 'modern', revision: LATEST_MODERN_VERSION } : { era: 'legacy' };
    super({ classification });
    this.classification = era === 'modern' ? classification : undefined;
  }

  override async start(): Promise<void> {}

  /** Calls in progress, across all exchanges. */
  get pending(): number {
    return this.routes.size;
  }

  /** Feeds one client request into the server; returns the internal id it runs under. */
  dispatchRequest(sink: ExchangeSink, message: JSONRPCMessage & { id: RequestId; method: string }, authInfo?: AuthInfo, onResult?: (result: Record<string, unknown>) => void): number {
    const id = this.nextId++;
    this.routes.set(id, { sink, originalId: message.id, ...(onResult ? { onResult } : {}) });
    this.deliver({ ...message, id } as JSONRPCMessage, authInfo);
    return id;
  }

  /**
   * Feeds a client notification in. A cancellation may only name a request of the same exchange
   * (`ownIds` maps its original ids to internal ones): over HTTP a client cancels by closing the
   * exchange, and nothing outside an exchange can say which request an id belongs to.
   */
  dispatchNotification(message: JSONRPCMessage & { method: string; params?: Record<string, unknown> }, ownIds: ReadonlyMap<RequestId, number>, authInfo?: AuthInfo): void {
    if (message.method === 'notifications/cancelled') {
      const internal = ownIds.get(message.params?.requestId as RequestId);
      if (internal !== undefined) this.cancel(internal, typeof message.params?.reason === 'string' ? message.params.reason : 'cancelled by the client');
      return;
    }
    this.deliver(message, authInfo);
  }

  /** Aborts a request (its client went away or cancelled it): the server stops, and its answer is never sent. */
  cancel(id: number, reason: string): void {
    const route = this.routes.get(id);
    if (!route) return;
    this.routes.delete(id);
    this.delivery?.abandoned(id);
    this.deliver({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    route.sink.respond({ jsonrpc: '2.0', id: route.originalId, error: { code: RPC.requestCancelled, message: `Request cancelled: ${reason}` } }, false);
  }

  private deliver(message: JSONRPCMessage, authInfo?: AuthInfo): void {
    this.dispatching = true;
    try {
      this.onmessage?.(message, { ...(this.classification ? { classification: this.classification } : {}), ...(authInfo ? { authInfo } : {}) });
    } finally {
      this.dispatching = false;
    }
  }

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('id' in message && ('result' in message || 'error' in message)) {
      const id = message.id as number;
      const route = this.routes.get(id);
      if (!route) return;
      this.routes.delete(id);
      if (route.onResult && 'result' in message) route.onResult(message.result as Record<string, unknown>);
      const delivery = this.delivery;
      route.sink.respond({ ...message, id: route.originalId } as JSONRPCMessage, this.dispatching, delivery ? (ok) => delivery.delivered(id, ok) : undefined);
      return;
    }
    const related = options?.relatedRequestId;
    if ('method' in message && !('id' in message) && related !== undefined) {
      this.routes.get(related as number)?.sink.notify(message);
    }
    // Server-initiated requests and unrelated notifications have no stream to go to when stateless.
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.routes.clear();
    this.onclose?.();
  }
}
