/**
 * Stateless Streamable HTTP without a server per request: one long-lived McpServer behind one
 * transport that multiplexes every HTTP exchange. Request ids are rewritten to ids unique to this
 * process on the way in and restored on the way out, so that clients that all count from 1 never
 * collide. The SDK's own stateless transport must be rebuilt (with its server) for every request,
 * which is what limits its throughput.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** The side of one HTTP exchange that the transport writes to. */
export interface ExchangeSink {
  /** Identifies the caller (token or address), so a cancellation can only touch its own calls. */
  readonly clientKey: string;
  /** A notification tied to one of this exchange's requests (progress); may be dropped in JSON mode. */
  notify(message: JSONRPCMessage): void;
  /** The answer to one request, with its original id restored. */
  respond(message: JSONRPCMessage): void;
  /** A request that will get no answer (cancelled): the exchange stops waiting for it. */
  abandon(originalId: RequestId): void;
}

interface Route {
  sink: ExchangeSink;
  originalId: RequestId;
}

export class MultiplexTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T) => void;

  private nextId = 1;
  private readonly routes = new Map<number, Route>();
  private closed = false;

  async start(): Promise<void> {}

  /** Calls in progress, across all exchanges. */
  get pending(): number {
    return this.routes.size;
  }

  /** Feeds one client request into the server; returns the internal id it runs under. */
  dispatchRequest(sink: ExchangeSink, message: JSONRPCMessage & { id: RequestId; method: string }): number {
    const id = this.nextId++;
    this.routes.set(id, { sink, originalId: message.id });
    this.onmessage?.({ ...message, id });
    return id;
  }

  /** Feeds a client notification in; a cancellation is mapped to the caller's own request. */
  dispatchNotification(sink: ExchangeSink, message: JSONRPCMessage & { method: string; params?: Record<string, unknown> }): void {
    if (message.method === 'notifications/cancelled') {
      const target = message.params?.requestId;
      for (const [id, route] of this.routes) {
        if (route.sink.clientKey === sink.clientKey && route.originalId === target) {
          this.cancel(id, typeof message.params?.reason === 'string' ? message.params.reason : 'cancelled by the client');
          return;
        }
      }
      return;
    }
    this.onmessage?.(message);
  }

  /** Aborts a request whose client went away; its eventual answer is dropped. */
  cancel(id: number, reason: string): void {
    const route = this.routes.get(id);
    if (!route) return;
    this.routes.delete(id);
    this.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
    route.sink.abandon(route.originalId);
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if ('id' in message && ('result' in message || 'error' in message)) {
      const id = message.id as number;
      const route = this.routes.get(id);
      if (!route) return;
      this.routes.delete(id);
      route.sink.respond({ ...message, id: route.originalId } as JSONRPCMessage);
      return;
    }
    const related = options?.relatedRequestId;
    if ('method' in message && !('id' in message) && related !== undefined) {
      this.routes.get(related as number)?.sink.notify(message);
    }
    // Server-initiated requests and unrelated notifications have no stream to go to in stateless mode.
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.routes.clear();
    this.onclose?.();
  }
}
